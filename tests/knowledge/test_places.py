"""Where a place is, seen from 成都 (knowledge/places.py, knowledge/data/places.yml)."""

from __future__ import annotations

from knowledge.places import Places, Region


def test_places_are_found_with_their_region():
    found = Places.load().found("我户口在南充，人在金牛区上班，老家是贵州的")
    assert [(name, region) for _, name, region in found] == [
        ("南充", Region.PROVINCE), ("金牛", Region.LOCAL), ("贵州", Region.OTHER)]


def test_a_road_named_after_a_place_is_no_place():
    assert Places.load().found("我住在西安路街道，北京路那边") == []


def test_every_name_has_one_region():
    p = Places.load()
    assert len(p.regions) >= 100 and set(p.regions.values()) == set(Region)
