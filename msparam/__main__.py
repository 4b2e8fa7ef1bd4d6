from msparam._tour import main

main()
