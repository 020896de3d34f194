"""User CSV tasks: fingerprints, duplicates, label spellings and clear errors for malformed files."""

import bz2
import gzip
import hashlib

import pandas as pd
import pytest

from helpers.learning.data import frame_to_task, load_task, task_fingerprint


def _rows(n: int = 60, labels=("neg", "pos", "neutral")):
    return [(f"text number {i}", labels[i % len(labels)]) for i in range(n)]


def _write(path, rows, **kwargs):
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False, **kwargs)
    return path


def _all_texts(task):
    return [t for split in ("train", "validation", "test") for t in task[split]["text"]]


# --- task_fingerprint -------------------------------------------------------------------------


def test_fingerprint_of_builtin_tasks_is_their_name():
    assert task_fingerprint("trec") == "trec"
    assert task_fingerprint("rotten_tomatoes") == "rotten_tomatoes"


def test_fingerprint_of_a_csv_follows_its_contents_not_its_path(tmp_path):
    path = _write(tmp_path / "mine.csv", _rows())
    before = task_fingerprint(path)
    assert before == hashlib.sha256(path.read_bytes()).hexdigest()
    assert task_fingerprint(str(path)) == before
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes())
    assert task_fingerprint(copy) == before  # same data, same fingerprint
    _write(path, _rows()[:-1] + [("an edited last row", "pos")])
    assert task_fingerprint(path) != before  # an edited CSV invalidates caches


def test_fingerprint_rejects_what_load_task_rejects(tmp_path):
    with pytest.raises(ValueError, match="unknown task"):
        task_fingerprint("imdb")
    with pytest.raises(ValueError, match="does not exist"):
        task_fingerprint(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="is a directory"):
        task_fingerprint(tmp_path)


# --- duplicates ---------------------------------------------------------------------------------


def test_duplicate_texts_are_dropped_so_no_text_is_in_two_splits(tmp_path, capsys):
    rows = _rows(60)
    rows += [rows[i] for i in range(0, 60, 2)] + [(" " + rows[1][0] + " ", rows[1][1])]  # 31 repeats
    task = load_task(_write(tmp_path / "dups.csv", rows))
    texts = _all_texts(task)
    assert len(texts) == len(set(texts)) == 60
    assert capsys.readouterr().err.strip() == f"{tmp_path / 'dups.csv'}: dropped 31 row(s) repeating an earlier text"


def test_no_message_without_duplicates(tmp_path, capsys):
    load_task(_write(tmp_path / "clean.csv", _rows()))
    assert capsys.readouterr().err == ""


def test_a_text_with_two_labels_is_refused_with_an_example(tmp_path):
    rows = _rows(60) + [("text number 4", "neg")]  # row 4 is "pos"
    with pytest.raises(ValueError, match=r"'text number 4'.*labels? .*'neg'.*'pos'"):
        load_task(_write(tmp_path / "conflict.csv", rows))


# --- label spellings ----------------------------------------------------------------------------


def test_spellings_of_one_number_are_merged_with_a_one_line_note(tmp_path, capsys):
    rows = [(f"t{i}", ["1", "1.0", "0"][i % 3]) for i in range(60)]
    task = load_task(_write(tmp_path / "numbers.csv", rows))
    assert task["train"].features["label"].names == ["0", "1"]
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "'1'" in err and "'1.0'" in err and "merged" in err


def test_labels_differing_by_case_are_flagged(tmp_path, capsys):
    rows = [(f"t{i}", ["pos", "Pos", "neg"][i % 3]) for i in range(60)]
    task = load_task(_write(tmp_path / "case.csv", rows))
    assert task["train"].features["label"].names == ["Pos", "neg", "pos"]
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "'Pos'" in err and "'pos'" in err and "letter case" in err


def test_surrounding_spaces_in_labels_do_not_make_new_classes(tmp_path, capsys):
    rows = [(f"t{i}", ["pos", " pos ", "neg"][i % 3]) for i in range(60)]
    task = load_task(_write(tmp_path / "spaces.csv", rows))
    assert task["train"].features["label"].names == ["neg", "pos"]


def test_labels_and_texts_are_read_as_written(tmp_path):
    rows = [(["NA", "None", "null"][i % 3] + ("" if i < 3 else f" {i}"), ["None", "NA", "x"][i % 3]) for i in range(60)]
    task = load_task(_write(tmp_path / "na.csv", rows))
    assert task["train"].features["label"].names == ["NA", "None", "x"]
    assert {"NA", "None", "null"} <= set(_all_texts(task))


def test_frame_to_task_deduplicates_data_frames_too():
    frame = pd.DataFrame(_rows(60) + _rows(60)[:5], columns=["text", "label"])
    assert len(_all_texts(frame_to_task(frame))) == 60


# --- malformed files ----------------------------------------------------------------------------


def _directory(tmp_path):
    return tmp_path


def _directory_named_csv(tmp_path):
    path = tmp_path / "x.csv"
    path.mkdir()
    return path


def _fake_gzip(tmp_path):
    return _write(tmp_path / "data.csv.gz", _rows(), compression=None)


def _fake_bz2(tmp_path):
    return _write(tmp_path / "data.csv.bz2", _rows(), compression=None)


def _latin1(tmp_path):
    path = tmp_path / "latin1.csv"
    _write(path, [("café crème", "pos")] + _rows(), encoding="latin-1")
    return path


def _ragged(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("text,label\nfine,pos\nfine again,neg\nhello, world,pos\nok,neg\n")
    return path


def _binary(tmp_path):
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    return path


def _tab_separated(tmp_path):
    return _write(tmp_path / "tabs.csv", _rows(), sep="\t")


def _semicolon_separated(tmp_path):
    return _write(tmp_path / "semi.csv", _rows(), sep=";")


@pytest.mark.parametrize(
    "make, match",
    [
        (_directory, r"is a directory.*hint"),
        (_directory_named_csv, r"x\.csv is a directory.*hint"),
        (_fake_gzip, r"data\.csv\.gz is not gzip-compressed.*hint"),
        (_fake_bz2, r"data\.csv\.bz2 is not bz2-compressed.*hint"),
        (_latin1, r"latin1\.csv is not UTF-8 text \(line 2: byte 0xe9\).*hint.*UTF-8"),
        (_ragged, r"ragged\.csv.*line 4.*hint.*delimiter.*quot"),
        (_binary, r"image\.csv looks like a binary file"),
        (_tab_separated, r"tabs\.csv looks tab-separated.*hint"),
        (_semicolon_separated, r"semi\.csv looks semicolon-separated.*hint"),
    ],
)
def test_malformed_files_raise_a_clear_value_error(tmp_path, make, match):
    path = make(tmp_path)
    with pytest.raises(ValueError, match=match):
        load_task(path)


def test_compressed_csvs_still_load(tmp_path):
    for suffix, opener in ((".csv.gz", gzip.open), (".csv.bz2", bz2.open)):
        path = tmp_path / f"data{suffix}"
        with opener(path, "wt", encoding="utf-8") as out:
            pd.DataFrame(_rows(), columns=["text", "label"]).to_csv(out, index=False)
        assert len(_all_texts(load_task(path))) == 60


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = _write(tmp_path / "bom.csv", _rows(), encoding="utf-8-sig")
    assert len(_all_texts(load_task(path))) == 60
