"""Packaging shim: the metadata is in pyproject.toml; this file only maps the zoo of yaml presets
(zoo_configs/) to the package ``solo_ext.zoo`` with every yaml below it, which pyproject.toml cannot glob."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def zoo_package_data():
    """Every yaml below zoo_configs/, relative to the solo_ext.zoo package folder."""
    zoo = HERE / "zoo_configs"
    return [str(p.relative_to(zoo)) for p in zoo.rglob("*.yaml")]


setup(
    packages=find_packages(include=["solo_ext", "solo_ext.*"])
    + ["solo_ext.zoo", "hydra_plugins.solo_ext_plugin"],
    package_dir={"solo_ext.zoo": "zoo_configs"},
    package_data={"solo_ext.zoo": zoo_package_data()},
)
