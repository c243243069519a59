"""parc.v1: the agent <-> collector contract (agent_service.proto) and its generated code."""
