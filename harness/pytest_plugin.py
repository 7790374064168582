"""pytest plugin (entry point ``pytest11``): see harness.regress for the fixture."""
