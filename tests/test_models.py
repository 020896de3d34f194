"""The model family: pretrained teacher, truncated students, a scratch student, local paths."""

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from helpers.models import build_model, count_parameters, describe_spec, load_tokenizer


def test_students_take_the_teachers_first_layers():
    teacher, student = build_model("L6", 6), build_model("L2", 6)
    assert teacher.config.num_hidden_layers == 6 and student.config.num_hidden_layers == 2
    for name, weight in student.bert.encoder.state_dict().items():
        assert torch.equal(weight, teacher.bert.encoder.state_dict()[name]), name
    assert torch.equal(student.bert.embeddings.word_embeddings.weight, teacher.bert.embeddings.word_embeddings.weight)
    assert count_parameters(student) < count_parameters(teacher)


def test_scratch_student_is_random_and_shares_the_vocabulary():
    scratch, pretrained = build_model("scratch", 3), build_model("L1", 3)
    assert scratch.config.vocab_size == pretrained.config.vocab_size == load_tokenizer().vocab_size
    assert scratch.config.hidden_size == 256
    assert "random" in describe_spec("scratch")


def test_same_seed_same_head_other_seed_other_head():
    a, b, c = build_model("L1", 4, seed=0), build_model("L1", 4, seed=0), build_model("L1", 4, seed=1)
    assert torch.equal(a.classifier.weight, b.classifier.weight)
    assert not torch.equal(a.classifier.weight, c.classifier.weight)


def test_a_local_folder_loads(tmp_path):
    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    BertForSequenceClassification(config).save_pretrained(tmp_path)
    model = build_model(str(tmp_path), num_labels=5)
    assert model.config.num_labels == 5 and model.config.hidden_size == 32


@pytest.mark.parametrize("spec, labels, match", [("L7", 2, "layers"), ("L0", 2, "layers"), ("L2", 1, "num_labels")])
def test_bad_specs(spec, labels, match):
    with pytest.raises(ValueError, match=match):
        build_model(spec, labels)


def test_an_unknown_hub_name_fails_fast_offline():
    with pytest.raises(OSError):
        build_model("no-such-user/no-such-model", 2)
