"""cs231n_rs.data_utils on small synthetic CIFAR-10 batch files (a few rows each, not 10000)."""

import os
import pickle

import numpy as np
import pytest

from cs231n_rs.data_utils import (
    CIFAR10_DIR_ENV_VAR,
    get_CIFAR10_data,
    load_CIFAR10,
    load_CIFAR_batch,
    load_pickle,
)

BATCHES = ["data_batch_%d" % b for b in range(1, 6)] + ["test_batch"]
ROWS = 4  # images per batch


def make_batch(seed, n=ROWS):
    rng = np.random.RandomState(seed)
    data = rng.randint(0, 256, size=(n, 3072)).astype(np.uint8)
    labels = [int(v) for v in rng.randint(0, 10, size=n)]
    return data, labels


def write_batch(path, data, labels, bytes_keys=False, **extra):
    d = {"batch_label": "synthetic", "data": data, "labels": labels}
    d.update(extra)
    if bytes_keys:
        d = {k.encode(): v for k, v in d.items()}
    with open(path, "wb") as f:
        pickle.dump(d, f)


def write_cifar(root, bytes_keys=False):
    """A cifar-10-batches-py folder of 6 tiny batches; returns {name: (data, labels)}."""
    os.makedirs(root, exist_ok=True)
    batches = {}
    for i, name in enumerate(BATCHES):
        data, labels = make_batch(i)
        write_batch(os.path.join(root, name), data, labels, bytes_keys=bytes_keys)
        batches[name] = (data, labels)
    return batches


@pytest.fixture
def cifar(tmp_path):
    root = tmp_path / "cifar-10-batches-py"
    return root, write_cifar(str(root))


# ---------------------------------------------------------------- load_pickle / load_CIFAR_batch


def test_load_pickle_decodes_latin1(tmp_path):
    path = tmp_path / "p"
    path.write_bytes(pickle.dumps({"a": [1, 2]}))
    with open(path, "rb") as f:
        assert load_pickle(f) == {"a": [1, 2]}


@pytest.mark.parametrize("bytes_keys", [False, True])
def test_load_batch_shapes_dtypes_values(tmp_path, bytes_keys):
    data, labels = make_batch(7, n=3)
    path = tmp_path / "data_batch_1"
    write_batch(path, data, labels, bytes_keys=bytes_keys)
    X, Y = load_CIFAR_batch(str(path))
    assert X.shape == (3, 32, 32, 3) and X.dtype == np.float64
    assert Y.shape == (3,) and Y.dtype == np.int64
    np.testing.assert_array_equal(Y, labels)
    for i in range(3):
        planes = data[i].reshape(3, 32, 32)  # red, green, blue planes in the file
        for c in range(3):
            np.testing.assert_array_equal(X[i, :, :, c], planes[c])
    # one pixel by hand: row r, column k, channel c sits at c*1024 + r*32 + k
    assert X[1, 5, 9, 2] == data[1, 2 * 1024 + 5 * 32 + 9]


def test_load_batch_accepts_pathlike_and_any_row_count(tmp_path):
    for n in (1, 10):
        data, labels = make_batch(n, n=n)
        write_batch(tmp_path / "b", data, labels)
        X, Y = load_CIFAR_batch(tmp_path / "b")
        assert X.shape == (n, 32, 32, 3) and Y.shape == (n,)


def test_load_batch_empty(tmp_path):
    write_batch(tmp_path / "b", np.zeros((0, 3072), np.uint8), [])
    X, Y = load_CIFAR_batch(tmp_path / "b")
    assert X.shape == (0, 32, 32, 3) and Y.shape == (0,) and Y.dtype == np.int64


# ---------------------------------------------------------------- load_CIFAR10


@pytest.mark.parametrize("bytes_keys", [False, True])
def test_load_cifar10_concatenates_in_order(tmp_path, bytes_keys):
    root = tmp_path / "cifar-10-batches-py"
    batches = write_cifar(str(root), bytes_keys=bytes_keys)
    Xtr, Ytr, Xte, Yte = load_CIFAR10(str(root))
    assert Xtr.shape == (5 * ROWS, 32, 32, 3) and Xtr.dtype == np.float64
    assert Ytr.shape == (5 * ROWS,) and Ytr.dtype == np.int64
    assert Xte.shape == (ROWS, 32, 32, 3) and Yte.shape == (ROWS,)
    for b, name in enumerate(BATCHES[:5]):
        data, labels = batches[name]
        expect = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        np.testing.assert_array_equal(Xtr[b * ROWS:(b + 1) * ROWS], expect)
        np.testing.assert_array_equal(Ytr[b * ROWS:(b + 1) * ROWS], labels)
    data, labels = batches["test_batch"]
    np.testing.assert_array_equal(Xte, data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(Yte, labels)


# ---------------------------------------------------------------- get_CIFAR10_data


def expected_splits(batches, num_training, num_validation, num_test, subtract_mean):
    Xtr = np.concatenate([batches[n][0] for n in BATCHES[:5]]).reshape(-1, 3, 32, 32).astype(float)
    Ytr = np.concatenate([batches[n][1] for n in BATCHES[:5]])
    Xte = batches["test_batch"][0].reshape(-1, 3, 32, 32).astype(float)
    Yte = np.array(batches["test_batch"][1])
    X_train, X_val = Xtr[:num_training], Xtr[num_training:num_training + num_validation]
    X_test = Xte[:num_test]
    if subtract_mean:
        mean = X_train.mean(axis=0)
        X_train, X_val, X_test = X_train - mean, X_val - mean, X_test - mean
    return {
        "X_train": X_train, "y_train": Ytr[:num_training],
        "X_val": X_val, "y_val": Ytr[num_training:num_training + num_validation],
        "X_test": X_test, "y_test": Yte[:num_test],
    }


def check_splits(got, expect):
    assert sorted(got) == sorted(expect)
    for k in expect:
        assert got[k].shape == expect[k].shape, k
        assert got[k].dtype == (np.float64 if k.startswith("X") else np.int64), k
        np.testing.assert_allclose(got[k], expect[k], rtol=0, atol=1e-9, err_msg=k)
        if k.startswith("X"):
            assert got[k].flags.c_contiguous, k


@pytest.mark.parametrize("subtract_mean", [True, False])
def test_get_cifar10_data(cifar, subtract_mean):
    root, batches = cifar
    got = get_CIFAR10_data(15, 3, 2, subtract_mean=subtract_mean, cifar10_dir=str(root))
    check_splits(got, expected_splits(batches, 15, 3, 2, subtract_mean))
    if subtract_mean:
        np.testing.assert_allclose(got["X_train"].mean(axis=0), 0, atol=1e-9)


def test_get_cifar10_data_env_var(cifar, monkeypatch, tmp_path):
    root, batches = cifar
    monkeypatch.setenv(CIFAR10_DIR_ENV_VAR, str(root))
    monkeypatch.chdir(tmp_path)
    check_splits(get_CIFAR10_data(10, 5, 4), expected_splits(batches, 10, 5, 4, True))


def test_get_cifar10_data_default_path(monkeypatch, tmp_path):
    monkeypatch.delenv(CIFAR10_DIR_ENV_VAR, raising=False)
    batches = write_cifar(str(tmp_path / "cs231n" / "datasets" / "cifar-10-batches-py"))
    monkeypatch.chdir(tmp_path)
    check_splits(get_CIFAR10_data(12, 8, 4, subtract_mean=False), expected_splits(batches, 12, 8, 4, False))


def test_get_cifar10_data_missing_default(monkeypatch, tmp_path):
    monkeypatch.delenv(CIFAR10_DIR_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as e:
        get_CIFAR10_data()
    msg = str(e.value)
    assert CIFAR10_DIR_ENV_VAR in msg and "not set" in msg
    assert os.path.join("cs231n", "datasets", "cifar-10-batches-py") in msg
    assert "https://www.cs.toronto.edu/~kriz/cifar.html" in msg and "get_digits_data" in msg


def test_get_cifar10_data_missing_env_dir(monkeypatch, tmp_path):
    missing = str(tmp_path / "nowhere")
    monkeypatch.setenv(CIFAR10_DIR_ENV_VAR, missing)
    with pytest.raises(FileNotFoundError) as e:
        get_CIFAR10_data()
    assert CIFAR10_DIR_ENV_VAR in str(e.value) and missing in str(e.value)


def test_get_cifar10_data_too_many(cifar):
    root, _ = cifar
    with pytest.raises(ValueError, match="asked for"):
        get_CIFAR10_data(18, 3, 2, cifar10_dir=str(root))
    with pytest.raises(ValueError, match="asked for"):
        get_CIFAR10_data(5, 3, ROWS + 1, cifar10_dir=str(root))
    with pytest.raises(ValueError, match="num_validation"):
        get_CIFAR10_data(5, -1, 1, cifar10_dir=str(root))


# ---------------------------------------------------------------- broken data


def test_missing_folder(tmp_path):
    missing = str(tmp_path / "nope")
    with pytest.raises(FileNotFoundError) as e:
        load_CIFAR10(missing)
    assert missing in str(e.value) and "data_batch_1" in str(e.value) and "test_batch" in str(e.value)
    with pytest.raises(FileNotFoundError, match="nope"):
        get_CIFAR10_data(cifar10_dir=missing)


@pytest.mark.parametrize("name", ["data_batch_3", "test_batch"])
def test_missing_batch(cifar, name):
    root, _ = cifar
    os.remove(os.path.join(str(root), name))
    with pytest.raises(FileNotFoundError) as e:
        load_CIFAR10(str(root))
    assert os.path.join(str(root), name) in str(e.value)
    assert "cifar-10-batches-py" in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_batch_9"):
        load_CIFAR_batch(str(tmp_path / "data_batch_9"))


def broken(path, kind):
    data, labels = make_batch(0)
    if kind == "not a pickle":
        path.write_bytes(b"this is not a pickle\n")
    elif kind == "empty file":
        path.write_bytes(b"")
    elif kind == "not a dict":
        path.write_bytes(pickle.dumps([data, labels]))
    elif kind == "no data":
        path.write_bytes(pickle.dumps({"labels": labels}))
    elif kind == "no labels":
        path.write_bytes(pickle.dumps({b"data": data}))
    elif kind == "flat data":
        write_batch(path, data.ravel(), labels)
    elif kind == "short rows":
        write_batch(path, data[:, :3000], labels)
    elif kind == "text data":
        write_batch(path, np.full((ROWS, 3072), "x"), labels)
    elif kind == "too few labels":
        write_batch(path, data, labels[:-1])
    elif kind == "too many labels":
        write_batch(path, data, labels + [1])
    elif kind == "float labels":
        write_batch(path, data, [0.5] * ROWS)


BROKEN = {
    "not a pickle": "unpickle",
    "empty file": "unpickle",
    "not a dict": "dict",
    "no data": "'data'",
    "no labels": "'labels'",
    "flat data": r"\(N, 3072\)",
    "short rows": r"\(N, 3072\)",
    "text data": r"\(N, 3072\)",
    "too few labels": "one label per image",
    "too many labels": "one label per image",
    "float labels": "integers",
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_malformed_batch(cifar, kind):
    root, _ = cifar
    path = root / "data_batch_2"
    broken(path, kind)
    with pytest.raises(ValueError, match=BROKEN[kind]) as e:
        load_CIFAR_batch(str(path))
    assert str(path) in str(e.value)
    with pytest.raises(ValueError) as e:
        load_CIFAR10(str(root))
    assert str(path) in str(e.value)
