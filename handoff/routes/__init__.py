"""The console's routes: one router per resource, each reaching the store, the settings and the
session through the dependencies of handoff/deps.py."""
