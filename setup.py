from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def zoo_package_data():
    """Every yaml below zoo_configs/, relative to the solo_ext.zoo package folder."""
    zoo = HERE / "zoo_configs"
    return [str(p.relative_to(zoo)) for p in zoo.rglob("*.yaml")]


setup(
    name="solo-ext",
    version="0.1.0",
    description="Recent self-supervised methods (MAGMA, ViC-MAE, SMAE, ColorMAE) as a solo-learn plugin",
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    packages=find_packages(include=["solo_ext", "solo_ext.*"]) + ["solo_ext.zoo", "hydra_plugins.solo_ext_plugin"],
    package_dir={"solo_ext.zoo": "zoo_configs"},
    package_data={"solo_ext.zoo": zoo_package_data()},
    install_requires=[
        # torch/torchvision pinned to the builds this project is tested with.
        "torch==2.14.1",
        "torchvision==0.29.1",
        "numpy",
        "omegaconf>=2.3",
        "hydra-core>=1.3",
        "scikit-learn",
        "pillow",
    ],
    extras_require={
        # solo-learn itself is installed from its repository (see README); these are its pins.
        "solo": [
            "lightning==2.1.2",
            "torchmetrics>=0.11,<0.12",
            "timm",
            "einops",
            "wandb",
            "scipy",
            "tqdm",
            # lightning 2.1.2 imports pkg_resources, removed in setuptools 82.
            "setuptools<82",
        ],
        # video files for ViC-MAE (PyAV bundles FFmpeg); frame folders need nothing
        "video": ["av"],
        # solo-ext analyze: figures and PaCMAP
        "analysis": ["matplotlib", "pacmap"],
        "test": ["pytest", "hypothesis", "av", "matplotlib", "pacmap"],
    },
    entry_points={"console_scripts": ["solo-ext = solo_ext.cli:main"]},
)
