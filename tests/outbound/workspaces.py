"""The workspace schema with ``outbound`` (as the lead will hang ``config.outbound.Outbound``
under ``Workspace``), and the test workspaces with acknowledgements and a webhook on."""
from __future__ import annotations

import copy

from config.outbound import Outbound
from config.workspaces import Config, Workspace
from tests.conftest import TEST_CONFIG


class OutboundWorkspace(Workspace):
    outbound: Outbound = Outbound()


class OutboundConfig(Config):
    workspaces: tuple[OutboundWorkspace, ...]


def outbound_config(**demo_outbound) -> OutboundConfig:
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["outbound"] = demo_outbound
    return OutboundConfig.model_validate(data)
