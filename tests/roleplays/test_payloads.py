"""The cluster metadata we send partners: the seed's shape, the schema, and few queries."""

import json
from pathlib import Path

import pytest

from portal.roleplays import schemas
from portal.roleplays.models import Competency, LikertItem, Roleplay
from portal.roleplays.payloads import cluster_metadata
from portal.roleplays.transfer import import_cluster

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "portal" / "roleplays" / "fixtures" / "demo_cluster.json"


@pytest.fixture
def demo_cluster():
    return import_cluster(json.loads(FIXTURE.read_text(encoding="utf-8")))


def test_metadata_of_the_demo_cluster(demo_cluster):
    payload = cluster_metadata(demo_cluster)

    schemas.validate("cluster_metadata_sync", payload)
    assert list(payload) == [
        "cluster_id",
        "cluster_name",
        "cluster_type",
        "number_of_roleplays",
        "roleplays",
    ]
    assert payload["number_of_roleplays"] == 2
    complaint, conflict = payload["roleplays"]
    assert complaint == {
        "roleplay_id": "rp-3f8a1c52",
        "roleplay_name": "Escalated Customer Complaint",
        "total_time_minutes": 20,
        "competencies": [
            {"id": "CUST_FOCUS", "name": "Customer Focus", "max_score": 10},
            {"id": "COMPOSURE", "name": "Composure under Pressure", "max_score": 10},
            {"id": "PROB_SOLV", "name": "Problem Solving", "max_score": 10},
        ],
    }
    assert conflict["competencies"][-1] == {
        "id": "16PF_E",
        "name": "Dominance (16PF E)",
        "max_score": 10,
    }
    # The example published in the schema is this very payload.
    assert schemas.schema("cluster_metadata_sync")["examples"] == [payload]
    # It survives the trip through JSON unchanged (no Decimal, no float surprises).
    assert json.loads(json.dumps(payload)) == payload


def test_a_16pf_trait_is_out_of_10_whatever_is_stored(demo_cluster):
    Competency.objects.filter(code="16PF_E").update(max_score=7)
    Competency.objects.filter(code="CONFLICT").update(max_score=12.5)
    conflict = cluster_metadata(demo_cluster)["roleplays"][1]
    assert {c["id"]: c["max_score"] for c in conflict["competencies"]} == {
        "CONFLICT": 12.5,
        "COACHING": 10,
        "16PF_E": 10,
    }


def test_roleplays_and_competencies_follow_their_positions(demo_cluster):
    Roleplay.objects.filter(roleplay_id="rp-3f8a1c52").update(position=3)
    Competency.objects.filter(code="CUST_FOCUS").update(position=9)
    payload = cluster_metadata(demo_cluster)
    assert [r["roleplay_id"] for r in payload["roleplays"]] == ["rp-b41e7d09", "rp-3f8a1c52"]
    assert [c["id"] for c in payload["roleplays"][1]["competencies"]] == [
        "COMPOSURE",
        "PROB_SOLV",
        "CUST_FOCUS",
    ]


def test_queries_do_not_grow_with_the_cluster(demo_cluster, django_assert_num_queries):
    with django_assert_num_queries(2):
        small = cluster_metadata(demo_cluster)

    # Grow it: three more roleplays of four competencies each.
    for n in range(3, 6):
        roleplay = Roleplay.objects.create(
            cluster=demo_cluster,
            position=n,
            roleplay_name=f"Extra {n}",
            total_time_minutes=10,
            scenario="More.",
        )
        for m in range(4):
            trait = Competency.objects.create(
                roleplay=roleplay, position=m, code=f"C{m}", name=f"C {m}", max_score=5
            )
            LikertItem.objects.create(competency=trait, statement="x")

    with django_assert_num_queries(2):
        big = cluster_metadata(demo_cluster)
    assert big["number_of_roleplays"] == small["number_of_roleplays"] + 3
    schemas.validate("cluster_metadata_sync", big)


def test_an_empty_cluster_is_not_valid_metadata(demo_cluster):
    Roleplay.objects.filter(cluster=demo_cluster).delete()
    payload = cluster_metadata(demo_cluster)
    assert payload["number_of_roleplays"] == 0
    with pytest.raises(ValueError, match="roleplays"):
        schemas.validate("cluster_metadata_sync", payload)
