import sys

if len(sys.argv) > 1:
    from msparam._cli import main

    sys.exit(main())
else:
    from msparam._tour import main

    main()
