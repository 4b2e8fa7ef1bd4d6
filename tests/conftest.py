"""Suite-wide settings: hypothesis without per-example deadlines (a shared 2-core CI machine can
pause any example for longer than the default 200 ms; speed is bench/'s business, not the tests')."""
from hypothesis import settings

settings.register_profile("msparam", deadline=None, print_blob=True)
settings.load_profile("msparam")
