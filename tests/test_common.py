"""common/: downloads, archive safety, loaders, normalization, NaN guard."""
import gzip
import hashlib
import io
import json
import tarfile

import numpy as np
import pytest

import common
from common.datasets import read_idx_gz
from conftest import dead_url, write_idx_gz, write_tiny_cifar10, write_tiny_mnist

PAYLOAD = b"hello mnist " * 5000
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()


# ---------------------------------------------------------------- data dir
def test_data_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("TFDEMOS_DATA_DIR", str(tmp_path / "env"))
    assert common.resolve_data_dir(tmp_path / "flag") == (tmp_path / "flag").resolve()
    assert common.resolve_data_dir(None) == (tmp_path / "env").resolve()
    monkeypatch.delenv("TFDEMOS_DATA_DIR")
    assert common.resolve_data_dir(None).name == "data"


# ---------------------------------------------------------------- downloads
def test_download_success(http_root, tmp_path, capsys):
    www, base = http_root
    (www / "f.bin").write_bytes(PAYLOAD)
    path = common.fetch("f.bin", [base + "f.bin"], tmp_path / "cache", md5=PAYLOAD_MD5)
    assert path.read_bytes() == PAYLOAD
    assert "100%" in capsys.readouterr().out  # progress shown
    assert not list((tmp_path / "cache").glob("*.part"))


def test_dead_mirror_then_good_one(http_root, tmp_path):
    www, base = http_root
    (www / "f.bin").write_bytes(PAYLOAD)
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    path = common.fetch("f.bin", [dead_url() + "f.bin", base + "missing/f.bin", base + "f.bin"],
                        tmp_path, sha256=sha)
    assert path.read_bytes() == PAYLOAD


def test_checksum_mismatch_tries_next_mirror(http_root, tmp_path):
    www, base = http_root
    (www / "bad").mkdir()
    (www / "bad" / "f.bin").write_bytes(PAYLOAD[:-1] + b"X")
    (www / "f.bin").write_bytes(PAYLOAD)
    path = common.fetch("f.bin", [base + "bad/f.bin", base + "f.bin"], tmp_path, md5=PAYLOAD_MD5)
    assert path.read_bytes() == PAYLOAD


def test_all_mirrors_fail_names_urls_and_offline_path(http_root, tmp_path):
    www, base = http_root
    (www / "f.bin").write_bytes(b"corrupt")
    urls = [dead_url() + "f.bin", base + "f.bin"]
    with pytest.raises(common.DownloadError) as info:
        common.fetch("f.bin", urls, tmp_path / "cache", md5=PAYLOAD_MD5)
    message = str(info.value)
    for url in urls:
        assert url in message
    assert str(tmp_path / "cache" / "f.bin") in message
    assert "checksum mismatch" in message
    assert not (tmp_path / "cache" / "f.bin").exists()
    assert not list((tmp_path / "cache").iterdir())  # no .part left behind


def test_local_file_used_without_network_and_warns_on_mismatch(tmp_path, capsys):
    (tmp_path / "f.bin").write_bytes(b"a re-packed copy")
    path = common.fetch("f.bin", [dead_url() + "f.bin"], tmp_path, md5=PAYLOAD_MD5)
    assert path.read_bytes() == b"a re-packed copy"
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "checksum" in err


def test_both_checksums_must_match(tmp_path):
    from common.download import _checksum_matches
    (tmp_path / "f.bin").write_bytes(PAYLOAD)
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    assert _checksum_matches(tmp_path / "f.bin", md5=PAYLOAD_MD5.upper(), sha256=sha)
    assert not _checksum_matches(tmp_path / "f.bin", md5=PAYLOAD_MD5, sha256="0" * 64)
    assert not _checksum_matches(tmp_path / "f.bin", md5="0" * 32, sha256=sha)


def test_argv_text_repairs_undecoded_utf8_and_keeps_gbk(monkeypatch):
    import os
    monkeypatch.setattr(os, "fsencode", lambda text: text.encode("latin-1"))  # a Latin-1 locale
    assert common.argv_text("会员".encode("utf-8").decode("latin-1")) == "会员"
    monkeypatch.setattr(os, "fsencode", lambda text: text.encode("gbk"))  # a GBK locale, right already
    assert common.argv_text("会员") == "会员"
    assert common.argv_text(None) is None


def test_validate_rejects_bad_download(http_root, tmp_path):
    www, base = http_root
    (www / "p.json").write_text("{not json", encoding="utf-8")
    def must_be_json(path):
        json.loads(path.read_text(encoding="utf-8"))
    with pytest.raises(common.DownloadError):
        common.fetch("p.json", [base + "p.json"], tmp_path, validate=lambda p: must_be_json(p))
    assert not list(tmp_path.glob("p.json*"))


# ---------------------------------------------------------------- archives and formats
def _tar_with(path, member_name, data=b"x"):
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(member_name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("member", ["../evil.txt", "a/../../evil.txt", "/tmp/evil.txt"])
def test_tar_unsafe_member_rejected(tmp_path, member):
    _tar_with(tmp_path / "bad.tar.gz", member)
    with pytest.raises(common.ArchiveError, match="unsafe"):
        common.safe_extract_tar(tmp_path / "bad.tar.gz", tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


def test_tar_symlink_rejected(tmp_path):
    with tarfile.open(tmp_path / "link.tar", "w") as tar:
        info = tarfile.TarInfo("link")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(common.ArchiveError):
        common.safe_extract_tar(tmp_path / "link.tar", tmp_path / "out")


def test_truncated_gzip_is_a_clear_error(tmp_path):
    write_idx_gz(tmp_path / "x.gz", np.zeros((5, 28, 28)), 2051)
    data = (tmp_path / "x.gz").read_bytes()
    (tmp_path / "x.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(common.DataError, match="re-download"):
        read_idx_gz(tmp_path / "x.gz", 2051)


def test_wrong_idx_magic(tmp_path):
    write_idx_gz(tmp_path / "labels.gz", np.zeros(5), 2049)
    with pytest.raises(common.DataError, match="magic"):
        read_idx_gz(tmp_path / "labels.gz", 2051)


def test_idx_size_mismatch(tmp_path):
    with gzip.open(tmp_path / "x.gz", "wb") as f:
        f.write((2051).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (5, 28, 28)) + b"\0" * 100)
    with pytest.raises(common.DataError, match="damaged"):
        read_idx_gz(tmp_path / "x.gz", 2051)


def test_load_mnist_from_local_folder(tmp_path):
    write_tiny_mnist(tmp_path, n_train=30, n_test=10)
    (x, y), (xt, yt) = common.load_mnist(tmp_path)
    assert x.shape == (30, 28, 28) and y.shape == (30,) and xt.shape == (10, 28, 28)
    assert x.dtype == np.uint8 and y.max() <= 9


def test_cifar10_binary_batches_read_as_hwc(tmp_path, monkeypatch):
    monkeypatch.setenv("TFDEMOS_CACHE_DIR", str(tmp_path / "cache"))
    data_dir, records = write_tiny_cifar10(tmp_path, per_file=7)
    files = common.cifar10_files(data_dir)
    x, y = common.read_cifar10_bin(files["train"])
    xt, _ = common.read_cifar10_bin(files["test"])
    assert x.shape == (35, 32, 32, 3) and xt.shape == (7, 32, 32, 3)
    labels, planes = records["data_batch_1.bin"]
    assert np.array_equal(y[:7], labels)
    assert np.array_equal(x[0, :, :, 1], planes[0, 1])  # channel planes became HWC


def test_tang_poems_loader_reads_utf8(tmp_path):
    folder = tmp_path / "tang-poems"
    folder.mkdir()
    from common.datasets import TANG_FILES
    for i, name in enumerate(TANG_FILES):
        poem = {"author": "李白", "title": f"詩{i}", "paragraphs": ["床前明月光，疑是地上霜。"]}
        (folder / name).write_text(json.dumps([poem], ensure_ascii=False), encoding="utf-8")
    poems = common.load_tang_poems(tmp_path)
    assert len(poems) == 58 and poems[0]["author"] == "李白"


# ---------------------------------------------------------------- augmentation (04)
def test_random_shift_moves_each_image_on_its_own_by_at_most_max_pixels():
    import tensorflow as tf
    from common.augment import random_shift
    images = np.zeros((300, 9, 9, 1), np.float32)
    images[:, 4, 4, 0] = np.arange(1, 301)  # one lit pixel in the middle, a different value per image
    tf.random.set_seed(0)
    shifted = random_shift(tf.constant(images), 2).numpy()
    assert shifted.shape == images.shape
    moves = set()
    for number, image in enumerate(shifted):
        lit = np.argwhere(image[..., 0])
        assert len(lit) == 1 and image[tuple(lit[0])][0] == number + 1  # moved, not lost or blended
        moves.add((lit[0][0] - 4, lit[0][1] - 4))
    assert moves == {(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)}  # all 25, per image
    edge = np.zeros((50, 5, 5, 1), np.float32)
    edge[:, 0, 0, 0] = 1  # a corner pixel either stays, or leaves the picture (zeros come in)
    counts = random_shift(tf.constant(edge), 1).numpy().sum(axis=(1, 2, 3))
    assert set(counts) == {0.0, 1.0}
    np.testing.assert_array_equal(random_shift(tf.constant(images), 0).numpy(), images)


def test_windows_cuts_each_images_own_window_like_slicing():
    import tensorflow as tf
    from common.augment import windows
    rng = np.random.default_rng(0)
    images = rng.random((20, 9, 11, 3)).astype(np.float32)  # not square, 3 channels (07's case)
    starts = rng.integers(0, 4, size=(20, 2)).astype(np.int32)
    cut = windows(tf.constant(images), tf.constant(starts), 6, 8).numpy()
    expected = np.stack([image[r:r + 6, c:c + 8] for image, (r, c) in zip(images, starts)])
    np.testing.assert_array_equal(cut, expected)


# ---------------------------------------------------------------- NaN guard
def test_nan_guard_reports_step_and_batch():
    guard = common.NanGuard()
    guard.check(1, 0.9, rows=(0, 50))
    guard.check(2, 0.7, rows=(50, 100))
    with pytest.raises(common.NanLossError) as info:
        guard.check(3, float("nan"), rows=(100, 150))
    message = str(info.value)
    assert "step 3" in message and "rows 100..149" in message and "0.7" in message
    assert "learning rate" in message and "log(0)" in message


def test_nan_guard_callback_stops_fit_at_planted_nan():
    import keras
    x = np.random.rand(64, 3).astype("float32")
    x[37] = np.nan  # row 37 is in batch 2 (rows 32..47) of the first epoch
    y = np.random.randint(0, 2, 64)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(common.NanLossError) as info:
        model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
                  callbacks=[common.NanGuardCallback(batch_size=16)])
    assert "batch 2" in str(info.value) and "rows 32..47" in str(info.value)


def test_user_mirror_is_tried_first_and_still_checked(http_root, tmp_path, monkeypatch, capsys):
    www, base = http_root
    (www / "mnist").mkdir()
    (www / "mnist" / "f.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("TFDEMOS_MIRRORS", f"{dead_url()}, {base}")
    path = common.fetch("f.bin", [dead_url() + "official/f.bin"], tmp_path / "mnist", md5=PAYLOAD_MD5)
    assert path.read_bytes() == PAYLOAD
    out = capsys.readouterr().out
    assert "(mirror 2 of 3)" in out and "official" not in out  # the official URL was not needed
    (www / "mnist" / "g.bin").write_bytes(b"not the file")
    with pytest.raises(common.DownloadError, match="checksum mismatch"):
        common.fetch("g.bin", [], tmp_path / "mnist", md5=PAYLOAD_MD5)
