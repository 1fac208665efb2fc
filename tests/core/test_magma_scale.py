"""dev/magma_scale.py: the MAGMA term's size against the host loss, read from the runs' CSV logs."""

import csv
import json

import pytest

from dev.magma_scale import main, run_scale, summary

COLUMNS = [
    "epoch",
    "step",
    "train_magma_loss_epoch",
    "train_magma_weight_epoch",
    "train_nce_loss_epoch",
]


def write_log(path, epochs):
    """A Lightning-style metrics.csv: a step row (no epoch means) after every epoch row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        for epoch, (magma, weight, host) in enumerate(epochs):
            writer.writerow(
                {
                    "epoch": epoch,
                    "step": 10 * epoch + 9,
                    "train_magma_loss_epoch": magma,
                    "train_magma_weight_epoch": weight,
                    "train_nce_loss_epoch": host,
                }
            )
            writer.writerow({"epoch": epoch, "step": 10 * epoch + 9})
    return path


def test_one_run_reads_the_last_epoch_before_and_after_the_switch(tmp_path):
    log = write_log(
        tmp_path / "metrics.csv", [(0.5, 0, 4.0), (0.3, 0, 3.9), (0.2, 0.1, 3.5), (0.1, 0.1, 2.0)]
    )
    assert run_scale(log) == {"before": 0.3, "last": 0.1, "weight": 0.1, "host": 2.0}
    never_on = write_log(tmp_path / "short.csv", [(0.5, 0, 4.0)])
    assert run_scale(never_on) is None


def test_summary_averages_runs_and_gives_the_share_of_the_host_loss(tmp_path):
    runs = tmp_path / "runs"
    for seed, host in ((0, 2.0), (1, 4.0)):
        seed_dir = runs / "digits" / "m-simclr" / f"seed{seed}"
        run = seed_dir / "attempt-2" / "m_simclr" / "x"
        write_log(run / "logs" / "version_0" / "metrics.csv", [(0.3, 0, 5.0), (0.2, 0.1, host)])
        # an earlier attempt of the same seed, not the evaluated checkpoint's: not read
        write_log(
            seed_dir / "attempt-1" / "m_simclr" / "y" / "logs" / "version_0" / "metrics.csv",
            [(9.0, 0, 5.0), (9.0, 0.1, 1.0)],
        )
        (seed_dir / "eval.json").write_text(json.dumps({"checkpoint": str(run / "last.ckpt")}))
    (line,) = summary(runs)
    # share: mean of 0.1 * 0.2 / 2 and 0.1 * 0.2 / 4 = 0.75 %
    assert line == (
        "digits m-simclr (2 runs): MAGMA loss 0.300 before switch-on, 0.200 in the last epoch; "
        "weight 0.1; weighted term 0.75 % of the host loss (3.000)"
    )


def test_a_missing_runs_folder_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path / "nope")])
    assert stop.value.code == 2
    assert f"runs: {tmp_path / 'nope'} is not a folder" in capsys.readouterr().err
