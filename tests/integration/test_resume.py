"""Resume and checkpoint evidence.

A run killed mid-schedule and resumed (``resume_from_checkpoint`` or solo-learn's auto-resume) trains its
remaining epochs with exactly the regulariser weights, SMAE constants and ColorMAE banks of an uninterrupted
run; every solo-ext checkpoint loads with ``torch.load(weights_only=True)`` (torch >= 2.6's default) and with
solo-ext's own loader, because solo-ext keeps OmegaConf objects out of the optimizer and scheduler state.
The refusal message for a checkpoint holding python objects is tested in test_launchers.py
(``test_solo_learn_builtin_checkpoint_evaluates_and_untrusted_pickles_are_refused``).
"""

import hashlib
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest
import torch
from lightning.pytorch import Callback
from omegaconf import DictConfig, ListConfig, OmegaConf

import solo_ext.launch.pretrain as pretrain_launcher
from solo_ext.config import ConfigError
from solo_ext.launch.checkpoints import load_state_dict
from solo_ext.losses import build_critic, save_critic
from solo_ext.masking import generate_patterns
from solo_ext.methods import SOLO_EXT_METHODS
from solo_ext.methods.smae import SMAE
from tests.integration.helpers import digits_config

SCHEDULE_RUN = ["data.val_path=null", "knn_eval.enabled=false", "limit_train_batches=1"]


class Killed(RuntimeError):
    """Stands for the job being killed (time limit, pre-emption)."""


def fingerprint(bank: torch.Tensor) -> str:
    return hashlib.sha256(bank.detach().cpu().contiguous().numpy().tobytes()).hexdigest()


@dataclass
class Case:
    config: str
    overrides: List[str]
    epochs: int
    killed_in: int  # the job dies as this epoch starts: the last checkpoint on disk is the previous epoch's
    logged: List[str]  # logged per step as "<key>_step"
    probe: Callable[[object], dict] = lambda model: {}  # method state that the step trained with
    expected: Dict[int, dict] = field(
        default_factory=dict
    )  # epoch -> values the uninterrupted run must show


def smae_state(model) -> dict:
    return {"s_pix": model.s_pix.item(), "s_perc": model.s_perc.item()}


def colormae_state(model) -> dict:
    color, patterns = model._bank_source
    return {
        "bank_source": color if patterns is None else patterns,
        "bank": fingerprint(model.masker.bank),
    }


def digits_bank(color: str) -> str:
    return fingerprint(
        torch.from_numpy(generate_patterns(color, 256, 64, 0))
    )  # the digits zoo's bank size


CASES = {
    # MAGMA's window is epochs 1-2: killed inside it, the window closes after the resume
    "m_mae": Case(
        "m-mae",
        ["++method_kwargs.magma.start_epoch=1", "++method_kwargs.magma.duration=2"],
        4,
        2,
        ["train_magma_weight"],
        expected={
            0: {"train_magma_weight": 0.0},
            1: {"train_magma_weight": pytest.approx(0.1)},
            2: {"train_magma_weight": pytest.approx(0.1)},
            3: {"train_magma_weight": 0.0},
        },
    ),
    # the paper preset's hard step of the contrastive weight, moved from epoch 5 to epoch 2 (after the resume)
    "vicmae": Case(
        "vicmae-paper",
        ["method_kwargs.vicmae.con_start_epoch=2"],
        3,
        1,
        ["train_contrastive_weight"],
        expected={
            1: {"train_contrastive_weight": 0.0},
            2: {"train_contrastive_weight": pytest.approx(0.025)},
        },
    ),
    "smae": Case(
        "smae",
        ["++method_kwargs.smae.calibration_batches=1"],
        2,
        1,
        ["train_s_pix", "train_s_perc"],
        smae_state,
    ),
    # green bank; blue from epoch 1 (in use when killed, so not the green one __init__ loads); red from epoch 3
    "colormae": Case(
        "colormae",
        [
            "++method_kwargs.colormae.schedule=[{start_epoch: 1, color: blue}, {start_epoch: 3, color: red}]"
        ],
        4,
        2,
        [],
        colormae_state,
        expected={
            0: {"bank_source": "green", "bank": digits_bank("green")},
            2: {"bank_source": "blue", "bank": digits_bank("blue")},
            3: {"bank_source": "red", "bank": digits_bank("red")},
        },
    ),
}


class ScheduleRecorder(Callback):
    """Records, per epoch, what each training step used (logged values, the method's state, and the learning
    rate and step count solo-learn/Lightning restore); raises Killed at the start of step
    ``kill_at`` = (epoch, batch)."""

    def __init__(self, case: Case, kill_at: Tuple[int, int] = None):
        self.case, self.kill_at = case, kill_at
        self.epochs: Dict[int, List[dict]] = {}
        self.state_at_train_start: dict = {}

    def on_train_start(self, trainer, pl_module):
        # callbacks run before the module's own hook: this is the state restored from the checkpoint (if any)
        self.state_at_train_start = self.case.probe(pl_module)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if (trainer.current_epoch, batch_idx) == self.kill_at:
            raise Killed(f"killed at epoch {trainer.current_epoch}, step {batch_idx}")
        self._lr = trainer.optimizers[0].param_groups[0]["lr"]

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        record = {key: trainer.callback_metrics[f"{key}_step"].item() for key in self.case.logged}
        record.update(self.case.probe(pl_module), lr=self._lr, global_step=trainer.global_step)
        self.epochs.setdefault(trainer.current_epoch, []).append(record)


@pytest.fixture(scope="module")
def critic(tmp_path_factory):
    torch.manual_seed(0)
    return save_critic(
        tmp_path_factory.mktemp("critic") / "critic.pt", build_critic(10), 10, top1=10.0
    )


@pytest.fixture(scope="module")
def calibrations():
    """Counts SMAE.calibrate calls (the counter is reset by each run)."""
    calls = []
    original = SMAE.calibrate

    def counted(self, batches):
        calls.append(1)
        return original(self, batches)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SMAE, "calibrate", counted)
        yield calls


def train(
    name: str, out: Path, digits_dir, critic, recorder: ScheduleRecorder, calibrations: list, *extra
):
    case = CASES[name]
    critic_override = [f"++method_kwargs.smae.critic={critic}"] if name == "smae" else []
    cfg = digits_config(
        case.config,
        digits_dir,
        out,
        *SCHEDULE_RUN,
        f"max_epochs={case.epochs}",
        *critic_override,
        *case.overrides,
        *extra,
        tiny_vit=True,
    )
    calibrations.clear()
    out.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pretrain_launcher, "_callbacks", lambda cfg: [recorder])
        patch.chdir(out)
        pretrain_launcher.pretrain(cfg)
    return len(calibrations)


@pytest.fixture(scope="module", params=list(CASES))
def interrupted(request, digits_dir, tmp_path_factory, critic, calibrations):
    """An uninterrupted run and the same run killed as epoch ``killed_in`` starts."""
    name = request.param
    root = tmp_path_factory.mktemp(f"resume-{name}")
    full = ScheduleRecorder(CASES[name])
    full_calibrations = train(name, root / "full", digits_dir, critic, full, calibrations)
    killed = ScheduleRecorder(CASES[name], kill_at=(CASES[name].killed_in, 0))
    with pytest.raises(Killed):
        train(name, root / "killed", digits_dir, critic, killed, calibrations)
    (ckpt,) = (root / "killed" / "trained_models").rglob("*.ckpt")
    return name, root, full, full_calibrations, killed, ckpt


def test_uninterrupted_runs_change_schedule_around_the_kill(interrupted):
    """The setting the resume tests rely on: the schedules really change inside the resumed epochs."""
    name, _, full, full_calibrations, killed, ckpt = interrupted
    case = CASES[name]
    assert sorted(full.epochs) == list(range(case.epochs)) and all(
        len(steps) == 1 for steps in full.epochs.values()
    )
    for epoch, values in CASES[name].expected.items():
        assert all(
            step[key] == value for step in full.epochs[epoch] for key, value in values.items()
        ), full.epochs[epoch]
    assert ckpt.name.endswith(f"ep={case.killed_in - 1}.ckpt")
    assert sorted(killed.epochs) == list(range(case.killed_in))
    if name == "smae":
        assert (
            full_calibrations == 1
            and full.epochs[0][0]["s_pix"] > 0
            and full.epochs[0][0]["s_perc"] > 0
        )
        assert full.state_at_train_start == {"s_pix": 0.0, "s_perc": 0.0}


@pytest.mark.parametrize("how", ["resume_from_checkpoint", "auto_resume"])
def test_resumed_run_trains_with_the_uninterrupted_schedule(
    how, interrupted, digits_dir, critic, calibrations
):
    name, root, full, _, _, ckpt = interrupted
    resumed = ScheduleRecorder(CASES[name])
    if how == "resume_from_checkpoint":
        calibrated = train(
            name,
            root / "resumed",
            digits_dir,
            critic,
            resumed,
            calibrations,
            f"+resume_from_checkpoint='{ckpt}'",
        )
    else:  # solo-learn's AutoResumer finds the killed run's checkpoint by matching its args.json
        calibrated = train(
            name,
            root / "killed",
            digits_dir,
            critic,
            resumed,
            calibrations,
            "auto_resume.enabled=true",
        )

    remaining = range(CASES[name].killed_in, CASES[name].epochs)
    assert sorted(resumed.epochs) == list(remaining)  # continued, not restarted
    assert resumed.epochs == {epoch: full.epochs[epoch] for epoch in remaining}
    if name == "smae":
        state = torch.load(ckpt, map_location="cpu")["state_dict"]
        restored = {"s_pix": state["s_pix"].item(), "s_perc": state["s_perc"].item()}
        assert (
            calibrated == 0
        )  # constants come from the checkpoint, not from the half-trained model
        (calibrated_once,) = {
            (step["s_pix"], step["s_perc"]) for steps in full.epochs.values() for step in steps
        }
        assert (
            resumed.state_at_train_start
            == restored
            == dict(zip(("s_pix", "s_perc"), calibrated_once))
        )


METHOD_CONFIGS = {
    "m_mae": "m-mae",
    "u_mae": "u-mae",
    "mu_mae": "mu-mae",
    "m_simclr": "m-simclr",
    "m_vicreg": "m-vicreg",
    "colormae": "colormae",
    "smae": "smae",
    "vicmae": "vicmae",
}


def test_every_method_is_covered():
    assert set(METHOD_CONFIGS) == set(SOLO_EXT_METHODS)


def test_solo_learn_keeps_python_objects_in_its_checkpoint_state(digits_dir):
    """Control for the next test: the host method keeps OmegaConf objects where a checkpoint stores them
    (optimizer arguments), and weights_only=True refuses such a file; solo-ext's methods convert them."""
    from solo.args.pretrain import parse_cfg
    from solo.methods import METHODS

    def built(method, config):
        cfg = digits_config(config, digits_dir, Path("."), tiny_vit=True)
        OmegaConf.set_struct(cfg, False)
        return METHODS[method](parse_cfg(cfg))

    host = built("mae", "mae")
    assert isinstance(host.extra_optimizer_args["betas"], (DictConfig, ListConfig))
    ours = built("m_mae", "m-mae")
    assert (
        ours.extra_optimizer_args["betas"] == [0.9, 0.95]
        and type(ours.extra_optimizer_args["betas"]) is list
    )


def test_weights_only_refuses_python_objects(tmp_path):
    torch.save({"betas": OmegaConf.create([0.9, 0.95])}, tmp_path / "objects.ckpt")
    with pytest.raises(pickle.UnpicklingError):
        torch.load(tmp_path / "objects.ckpt", weights_only=True)
    with pytest.raises(ConfigError, match="refuses this file"):
        load_state_dict(tmp_path / "objects.ckpt")


@pytest.mark.parametrize("method", sorted(METHOD_CONFIGS))
def test_checkpoint_loads_with_weights_only(method, digits_dir, critic, tmp_path):
    extra = (
        [f"++method_kwargs.smae.critic={critic}", "++method_kwargs.smae.calibration_batches=1"]
        if method == "smae"
        else []
    )
    cfg = digits_config(
        METHOD_CONFIGS[method],
        digits_dir,
        tmp_path,
        "limit_train_batches=1",
        "data.val_path=null",
        "knn_eval.enabled=false",
        *extra,
        tiny_vit=True,
    )
    pretrain_launcher.pretrain(cfg)
    (ckpt,) = (tmp_path / "trained_models" / method).rglob("*.ckpt")
    checkpoint = torch.load(
        ckpt, weights_only=True
    )  # explicit: not whatever this torch's default is
    assert any(key.startswith("backbone.blocks.") for key in checkpoint["state_dict"])
    assert (
        checkpoint["epoch"] == 0 and checkpoint["optimizer_states"][0]["state"]
    )  # AdamW moments after one step
    assert (
        load_state_dict(ckpt).keys() == checkpoint["state_dict"].keys()
    )  # solo-ext's untrusted loader
