"""The deploy targets (Kubernetes, Mimir, Thanos, vmalert), proven on real schemas and engines.

Every spec we ship (slo_specs/ and tests/fixtures/specs/) is generated with every target on,
written to disk, read back and checked against what loads it in production:

- Kubernetes: each manifest validates against the Prometheus Operator's (and Kubernetes')
  own schemas, from cloudcoil's models; the PrometheusRule's groups are the plain files'
  groups; the AlertmanagerConfig routes, inhibits and notifies like alertmanager/route.yml
  (for every receiver kind, too);
  the ConfigMap holds the dashboard JSON with the sidecar's label;
- Mimir: the namespace file parses back to a namespace and plain groups, which promtool 3.5
  and ``vmalert -dryRun`` load;
- Thanos: the strategy sits on every group, and without it the files are the plain ones,
  which every promtool loads;
- vmalert: ``vmalert -dryRun`` loads the file, and its groups are the plain ones.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml
from cli_support import CHECKOUT, ROOT
from depth import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import valid_specs
from test_receivers import EVERY_KIND, with_routing
from yaml_io import load_yaml, spec_text

from generator import tools
from generator.output import write_tree
from generator.plan import service_files
from generator.prometheus.rule_files import FILES, rule_files
from generator.spec.deploy import Deploy, Kubernetes, Mimir, Thanos, secret_key
from generator.spec.loader import load, load_text
from generator.targets import kubernetes

SPECS = sorted([*ROOT.glob("slo_specs/*.yaml"), *ROOT.glob("tests/fixtures/specs/*.yaml")])
EVERY_TARGET = Deploy(
    kubernetes=Kubernetes("observability", (("release", "kube-prometheus-stack"),), "am-secrets"),
    mimir=Mimir("tenant-ns"),
    thanos=Thanos("warn"),
    vmalert=True,
)


@pytest.fixture(scope="module", params=SPECS, ids=[p.stem for p in SPECS])
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Return (service, folder holding out/<service>/) for one spec with every target on."""
    service = dataclasses.replace(load(request.param.relative_to(ROOT)), deploy=EVERY_TARGET)
    out = tmp_path_factory.mktemp(service.name)
    write_tree(out, service_files(service))
    return service, out / service.name


def _read(path: Path) -> dict:
    return load_yaml(path.read_text(encoding="utf-8"))


def _rule_files(service) -> list[str]:
    """Return the plain rule files' paths under a target folder, in the order the targets
    concatenate them (``rule_files.FILES`` order, one set per environment)."""
    return list(rule_files(service))


def _plain_groups(service, base: Path) -> list[dict]:
    return [g for name in _rule_files(service) for g in _read(base / "prometheus" / name)["groups"]]


def _model(kind: str) -> type:
    """cloudcoil's model of ``kind``: the operator's v1 ``PrometheusRule``, its v1alpha1
    ``AlertmanagerConfig`` and ``Route``, Kubernetes' core v1 ``ConfigMap``. Imported here,
    by the first test that validates a manifest: the models are thousands of pydantic
    classes, about 6 s of import that every test process would otherwise pay to collect
    this module."""
    from cloudcoil.models.kubernetes.core import v1 as core
    from cloudcoil.models.prometheus_operator import v1, v1alpha1

    api = {"PrometheusRule": v1, "AlertmanagerConfig": v1alpha1, "Route": v1alpha1}
    return getattr(api.get(kind, core), kind)


def _validates(kind: str, manifest: dict) -> None:
    """Assert ``manifest`` validates with the schema of ``kind`` (:func:`_model`) and loses no
    field on the way (cloudcoil's models ignore unknown fields, so a round trip is what
    catches them)."""
    parsed = _model(kind).model_validate(manifest)
    assert parsed.model_dump(mode="json", by_alias=True, exclude_unset=True) == manifest


def _loads(engine: tools.Engine, files: list[Path]) -> None:
    proc = tools.check_rule_files(engine, files)
    assert proc.returncode == 0, f"{engine}: {proc.stdout}{proc.stderr}"


# -- Kubernetes ---------------------------------------------------------------------------


def test_prometheusrule_validates_and_holds_the_plain_groups(generated) -> None:
    service, base = generated
    manifest = _read(base / "kubernetes" / "prometheusrule.yaml")
    _validates("PrometheusRule", manifest)
    assert manifest["apiVersion"] == "monitoring.coreos.com/v1"
    assert manifest["kind"] == "PrometheusRule"
    assert manifest["metadata"]["namespace"] == "observability"
    assert manifest["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert manifest["spec"]["groups"] == _plain_groups(service, base)


def _crd_matchers(matchers: list[dict]) -> list[str]:
    return [f'{m["name"]}{m["matchType"]}"{m["value"]}"' for m in matchers]


def test_alertmanagerconfig_routes_like_the_plain_config(generated) -> None:
    service, base = generated
    path = base / "kubernetes" / "alertmanagerconfig.yaml"
    if service.routing is None:
        assert not path.exists()
        return
    crd = _read(path)
    _validates("AlertmanagerConfig", crd)
    for route in crd["spec"]["route"]["routes"]:
        _validates("Route", route)  # the CRD types sub-routes as free-form objects
    plain = _read(base / "alertmanager" / "route.yml")
    route, plain_route = crd["spec"]["route"], plain["route"]
    # route.yml names receivers <service>/<name> and matches the service once, on its route;
    # the operator prefixes the names itself, so the CRD matches the service on each route.
    prefix = f"{service.name}/"
    on_service = plain_route["matchers"]
    assert on_service == [f'service="{service.name}"']
    plain_route = {**plain_route, "receiver": plain_route["receiver"].removeprefix(prefix)}
    plain_route["routes"] = [
        {
            **r,
            "receiver": r["receiver"].removeprefix(prefix),
            "matchers": [*on_service, *r["matchers"]],
        }
        for r in plain_route["routes"]
    ]
    for crd_key, plain_key in (
        ("receiver", "receiver"),
        ("groupBy", "group_by"),
        ("groupWait", "group_wait"),
        ("groupInterval", "group_interval"),
        ("repeatInterval", "repeat_interval"),
    ):
        assert route[crd_key] == plain_route[plain_key], crd_key
    assert [
        (r["receiver"], _crd_matchers(r["matchers"]), r.get("continue", False))
        for r in route["routes"]
    ] == [(r["receiver"], r["matchers"], r.get("continue", False)) for r in plain_route["routes"]]
    assert [
        (_crd_matchers(r["sourceMatch"]), _crd_matchers(r["targetMatch"]), r["equal"])
        for r in crd["spec"]["inhibitRules"]
    ] == [(r["source_matchers"], r["target_matchers"], r["equal"]) for r in plain["inhibit_rules"]]
    # Each secret file of the plain config is a key of the one Secret, named after the file.
    crd_secrets, plain_files = set(), set()
    for crd_rx, plain_rx in zip(crd["spec"]["receivers"], plain["receivers"], strict=True):
        assert prefix + crd_rx["name"] == plain_rx["name"]
        for configs in crd_rx.values():
            for config in configs if isinstance(configs, list) else ():
                crd_secrets |= {
                    (v["name"], v["key"]) for v in config.values() if isinstance(v, dict)
                }
        for configs in plain_rx.values():
            for config in configs if isinstance(configs, list) else ():
                plain_files |= {v for k, v in config.items() if k.endswith("_file")}
    assert crd_secrets == {("am-secrets", secret_key(f)) for f in plain_files}
    assert len(crd_secrets) == len(plain_files)


def test_every_receiver_kind_validates_in_the_alertmanagerconfig(tmp_path: Path) -> None:
    """Slack, PagerDuty, Opsgenie, e-mail, webhook and Telegram in the CRD's own schema, each
    secret a key of the one Secret, and routes by label with the CRD's matchers."""
    text = with_routing(CHECKOUT, EVERY_KIND, "shop")
    service = dataclasses.replace(load_text("shop.yaml", text), deploy=EVERY_TARGET)
    crd = kubernetes.alertmanager_config(service)
    _validates("AlertmanagerConfig", crd)
    for route in crd["spec"]["route"]["routes"]:
        _validates("Route", route)
    receivers = {r["name"]: r for r in crd["spec"]["receivers"]}
    assert set(receivers) == set(EVERY_KIND["receivers"])
    secrets = {
        "oncall-tg": ("telegramConfigs", "botToken", "tg"),
        "payments-pd": ("pagerdutyConfigs", "routingKey", "pd_payments"),
        "payments-slack": ("slackConfigs", "apiURL", "slack_payments"),
        "sre-opsgenie": ("opsgenieConfigs", "apiKey", "opsgenie"),
        "tickets": ("webhookConfigs", "urlSecret", "tickets_url"),
        "mail": ("emailConfigs", "authPassword", "smtp"),
    }
    for name, (configs, field, key) in secrets.items():
        (config,) = receivers[name][configs]
        assert config[field] == {"name": "am-secrets", "key": key}, (name, config)
    first = crd["spec"]["route"]["routes"][0]
    assert first["receiver"] == "payments-pd" and first["continue"] is True
    assert {"name": "team", "value": "payments", "matchType": "="} in first["matchers"]
    regex = crd["spec"]["route"]["routes"][3]
    assert {"name": "team", "value": "sre|infra", "matchType": "=~"} in regex["matchers"]


def test_dashboard_configmap_holds_the_dashboard_for_the_sidecar(generated) -> None:
    service, base = generated
    path = base / "kubernetes" / "dashboard-configmap.yaml"
    if service.dashboard is None:
        assert not path.exists()
        return
    manifest = _read(path)
    _validates("ConfigMap", manifest)
    assert manifest["metadata"]["labels"]["grafana_dashboard"] == "1"
    (text,) = manifest["data"].values()
    board = base / "grafana" / "four-golden-signals.json"
    assert json.loads(text) == json.loads(board.read_text(encoding="utf-8"))


def test_the_schema_check_rejects_what_the_operator_would() -> None:
    """The check every test here runs can fail: a misspelt field, a wrong enum value."""
    rule = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule"}
    rule["metadata"] = {"name": "x", "namespace": "y"}
    misspelt = {**rule, "spec": {"groups": [{"name": "g", "rule": []}]}}
    with pytest.raises(AssertionError):
        _validates("PrometheusRule", misspelt)
    bad_strategy = {**rule, "spec": {"groups": [{"name": "g", "partial_response_strategy": "x"}]}}
    with pytest.raises(ValueError):  # pydantic's ValidationError
        _validates("PrometheusRule", bad_strategy)


# -- Mimir, Thanos, vmalert ----------------------------------------------------------------


def test_mimir_namespace_file_parses_back_and_loads_as_plain_groups(generated, tmp_path) -> None:
    service, base = generated
    namespace = _read(base / "mimir" / "rules.yaml")
    assert sorted(namespace) == ["groups", "namespace"]
    assert namespace["namespace"] == "tenant-ns"
    assert namespace["groups"] == _plain_groups(service, base)
    plain = tmp_path / "groups.yml"
    plain.write_text(yaml.safe_dump({"groups": namespace["groups"]}), encoding="utf-8")
    _loads(tools.PROMETHEUS_3_5, [plain])
    _loads(tools.VICTORIAMETRICS, [plain])


def test_thanos_files_carry_the_strategy_and_are_otherwise_plain(generated, tmp_path) -> None:
    service, base = generated
    for name in _rule_files(service):
        groups = _read(base / "thanos" / name)["groups"]
        assert {g.pop("partial_response_strategy") for g in groups} == {"warn"}
        assert groups == _read(base / "prometheus" / name)["groups"]
        stripped = tmp_path / name.replace("/", "-")
        stripped.write_text(yaml.safe_dump({"groups": groups}), encoding="utf-8")
        for engine in tools.PROMETHEUSES:
            _loads(engine, [stripped])


def test_thanos_without_a_strategy_writes_the_plain_files(generated, tmp_path) -> None:
    service, _ = generated
    off = dataclasses.replace(service, deploy=Deploy(thanos=Thanos()))
    files = service_files(off)
    for name in _rule_files(off):
        assert files[f"{off.name}/thanos/{name}"] == files[f"{off.name}/prometheus/{name}"]


def test_vmalert_dry_run_loads_the_file_of_plain_groups(generated) -> None:
    service, base = generated
    path = base / "vmalert" / "rules.yml"
    assert _read(path)["groups"] == _plain_groups(service, base)
    _loads(tools.VICTORIAMETRICS, [path])


def test_no_deploy_section_writes_no_target_folder(generated) -> None:
    service, _ = generated
    plain = dataclasses.replace(service, deploy=Deploy())
    folders = {p.split("/")[1] for p in service_files(plain)}
    assert not folders & {"kubernetes", "mimir", "thanos", "vmalert"}


# -- any valid spec, any deploy settings ---------------------------------------------------

K8S_NAME = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?\Z")
LABEL_KEY = st.from_regex(
    r"\A([a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?(\.[a-z]{2,5})?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?\Z"
)
LABEL_VALUE = st.from_regex(r"\A(([A-Za-z0-9][-A-Za-z0-9_.]{0,10})?[A-Za-z0-9])?\Z")


@st.composite
def deploy_sections(draw: st.DrawFn) -> dict:
    """A ``deploy`` section with every target on and drawn names, labels and strategy."""
    labels = draw(
        st.dictionaries(
            LABEL_KEY.filter(lambda k: k != "grafana_dashboard"), LABEL_VALUE, max_size=3
        )
    )
    thanos = draw(
        st.sampled_from(
            [{}, {"partial_response_strategy": "warn"}, {"partial_response_strategy": "abort"}]
        )
    )
    return {
        "kubernetes": {"namespace": draw(K8S_NAME), "labels": labels},
        "mimir": {"namespace": draw(st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,20}\Z"))},
        "thanos": thanos,
        "vmalert": {},
    }


def _file_groups(files: dict[str, dict], folder: str) -> list[dict]:
    """The groups of the plain rule files in ``folder``, in evaluation order."""
    return [
        g
        for name in FILES
        if f"{folder}/{name}" in files
        for g in files[f"{folder}/{name}"]["groups"]
    ]


@settings(
    max_examples=examples(deep=15, quick=5), deadline=None, suppress_health_check=list(HealthCheck)
)
@given(spec=valid_specs(), deploy=deploy_sections())
def test_any_spec_with_any_deploy_section_wraps_the_plain_groups(spec: dict, deploy: dict) -> None:
    service = load_text("random.yaml", spec_text({**spec, "deploy": deploy}))
    files = {
        k: load_yaml(v) for k, v in service_files(service).items() if k.endswith((".yml", ".yaml"))
    }
    base = service.name
    plain = _file_groups(files, f"{base}/prometheus")
    rule = files[f"{base}/kubernetes/prometheusrule.yaml"]
    _validates("PrometheusRule", rule)
    assert rule["metadata"]["namespace"] == deploy["kubernetes"]["namespace"]
    assert rule["metadata"]["labels"] == deploy["kubernetes"]["labels"]
    assert rule["spec"]["groups"] == plain
    assert files[f"{base}/mimir/rules.yaml"] == {
        "namespace": deploy["mimir"]["namespace"],
        "groups": plain,
    }
    assert files[f"{base}/vmalert/rules.yml"]["groups"] == plain
    strategy = deploy["thanos"].get("partial_response_strategy")
    thanos = _file_groups(files, f"{base}/thanos")
    assert [g.pop("partial_response_strategy", None) for g in thanos] == [strategy] * len(plain)
    assert thanos == plain
