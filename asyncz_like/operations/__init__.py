"""What the operator surfaces (the ``asyncz-like`` CLI and the REST API with its dashboard)
share: a paused scheduler used as a store client, task specs given as JSON, config files,
JSON rendering of snapshots, history and health, and keeping secrets out of output."""

from asyncz_like.operations.client import StoreClient, open_client
from asyncz_like.operations.config import load_config_file, scheduler_from_config
from asyncz_like.operations.features import FeatureUnavailableError
from asyncz_like.operations.specs import TaskSpec, TriggerSpec

__all__ = [
    "FeatureUnavailableError",
    "StoreClient",
    "TaskSpec",
    "TriggerSpec",
    "load_config_file",
    "open_client",
    "scheduler_from_config",
]
