"""Errors that reach the user as one clear sentence (the CLI prints them and exits non-zero)."""


class UserError(Exception):
    """Bad input or configuration: the message names the file/variable and the fix."""

    exit_code = 2


class ConfigError(UserError):
    """A config file is unreadable or holds an invalid value."""


class DatasetError(UserError):
    """The dataset is missing or malformed."""


class RunFailed(UserError):
    """A pipeline run failed (a step raised, a server went away); its log above says where."""

    exit_code = 1


class ServiceUnavailable(UserError):
    """A server (MLflow, ZenML, S3, the database) could not be reached or refused a call; the message names it.

    The exit code depends on the command: the CLI's error boundary sets 4 (could not decide) for the
    promotion commands and 1 (the run failed) elsewhere."""

    exit_code = 1


class MoveRefused(UserError):
    """A manual alias move refused because the registry is not in the state it was asked to act on
    (the source alias moved, the version is rejected): nothing changed."""

    exit_code = 4
