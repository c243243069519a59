"""The error interceptor on a real (plaintext, loopback) server: domain errors map to their
status, anything unexpected to INTERNAL with a generic message that leaks nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc
from server.api.errors import INTERNAL_MESSAGE, STATUS_BY_ERROR, ErrorInterceptor
from server.services import errors

SECRET = "parc_do-not-leak-me"


class FailingServicer(pb_grpc.AgentServiceServicer):
    """Enroll raises whatever the token names."""

    async def Enroll(self, request: pb.EnrollRequest, context: Any) -> pb.EnrollResponse:
        if request.token == "unexpected":
            raise RuntimeError(f"boom with {SECRET}")
        raise getattr(errors, request.token)(f"{request.token} happened")


@pytest.fixture
async def stub() -> AsyncIterator[Any]:
    server = grpc.aio.server(interceptors=(ErrorInterceptor(),))
    servicer = FailingServicer()  # type: ignore[abstract]  # only Enroll is needed here
    pb_grpc.add_AgentServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield pb_grpc.AgentServiceStub(channel)
    finally:
        await channel.close()
        await server.stop(None)


@pytest.mark.parametrize("error", list(STATUS_BY_ERROR), ids=str)
async def test_each_domain_error_maps_to_its_status(stub: Any, error: type[Exception]) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Enroll(pb.EnrollRequest(token=error.__name__), timeout=5)
    assert caught.value.code() == STATUS_BY_ERROR[error]  # type: ignore[index]
    assert caught.value.details() == f"{error.__name__} happened"


async def test_an_unexpected_error_is_internal_and_says_nothing_more(
    stub: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Enroll(pb.EnrollRequest(token="unexpected"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert caught.value.details() == INTERNAL_MESSAGE
    assert "RuntimeError" in caplog.text  # the traceback is logged for the operator


async def test_an_unimplemented_method_stays_unimplemented(stub: Any) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ReportHealth(pb.ReportHealthRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
