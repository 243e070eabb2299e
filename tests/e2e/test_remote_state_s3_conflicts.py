"""S3 conditional writes made certain: a forwarding proxy in front of a real moto server lets
another writer change the state object exactly between orc's read and its conditional PUT,
so moto answers 412 and orc must re-read, merge and retry (If-Match on an existing object,
If-None-Match: * on a new one), and must give up loudly after its bounded attempts when the
object never stops changing. The concurrency tests show the same with real parallel runs,
but whether a conflict happens there is up to the scheduler."""

from __future__ import annotations

import pytest

from helpers import (RemoteState, base_env, save_while_never_stops_changing,
                     save_with_a_write_in_between)
from servers.forwarding_proxy import ForwardingProxy


def through(proxy: ForwardingProxy, moto, bucket: str, key: str, tmp_path) -> RemoteState:
    """s3://bucket/key on moto, which orc reaches through `proxy`."""
    env = base_env() | moto.env | {"AWS_ENDPOINT_URL_S3": proxy.url,
                                   "ORCHESTRA_STATE_FILE": f"s3://{bucket}/{key}",
                                   "ORCHESTRA_DBT_DEBUG": "true"}
    return RemoteState(tmp_path, env,
                       lambda data: moto.client().put_object(Bucket=bucket, Key=key, Body=data),
                       lambda: moto.client().get_object(Bucket=bucket, Key=key)["Body"].read(),
                       proxy)


@pytest.mark.parametrize("existing", [True, False], ids=["if-match", "if-none-match"])
def test_write_between_read_and_put_gets_412_and_is_merged(moto, bucket, tmp_path, existing):
    with ForwardingProxy(moto.endpoint) as proxy:
        save_with_a_write_in_between(through(proxy, moto, bucket, "conflict/state.json", tmp_path),
                                     existing)
    assert proxy.statuses("PUT") == [412, 200], proxy.log
    assert proxy.statuses("GET") == [200 if existing else 404, 200], proxy.log


def test_object_that_never_stops_changing_fails_loudly_after_bounded_attempts(moto, bucket,
                                                                              tmp_path):
    with ForwardingProxy(moto.endpoint) as proxy:
        r = save_while_never_stops_changing(through(proxy, moto, bucket, "busy/state.json",
                                                    tmp_path))
    assert f"s3://{bucket}/busy/state.json" in r.stderr
