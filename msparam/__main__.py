import sys

if len(sys.argv) > 1:
    from msparam._cli import main as run_command

    sys.exit(run_command())
else:
    from msparam._tour import main as run_tour

    run_tour()
