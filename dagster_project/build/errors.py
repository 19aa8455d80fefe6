"""The two ways a command ends without doing its work, each with a message a person can act on."""


class BuildError(Exception):
    """A build that did not publish; the message says why, in words a person can act on."""


class UsageError(Exception):
    """A command was given something it cannot use (a path, a flag, a setting, a mart
    name); the message says which, and nothing was started."""
