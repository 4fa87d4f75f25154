"""Packaging beyond what pyproject.toml can say: the demo's team lives at the top of the
repository in ``sample_data/`` (where users copy their first team file from), and the
wheel carries that same directory as ``opsweek/sample_data``, mapped at build time, so
there is no second copy to keep in step. ``opsweek.demo.sample_dir`` reads it."""

from setuptools import find_namespace_packages, setup

setup(
    packages=find_namespace_packages(include=["opsweek", "opsweek.*"]) + ["opsweek.sample_data"],
    package_dir={"opsweek.sample_data": "sample_data"},
    package_data={"opsweek": ["tui/*.tcss"], "opsweek.sample_data": ["*.toml", "*.csv"]},
)
