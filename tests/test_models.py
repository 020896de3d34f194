"""The model family: pretrained teacher, truncated students, a scratch student, local paths."""

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from helpers.learning.models import (
    TrimmedEmbedding,
    build_model,
    count_parameters,
    describe_spec,
    load_tokenizer,
    restore_vocabulary,
    trim_vocabulary,
)


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


def _tiny_bert() -> BertForSequenceClassification:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
                        num_labels=3, pad_token_id=0)
    return BertForSequenceClassification(config).eval()


def test_a_trimmed_vocabulary_gives_the_same_outputs_and_gradients_for_kept_tokens():
    model, reference = _tiny_bert(), _tiny_bert()
    ids = torch.tensor([[2, 7, 7, 31, 0, 0], [2, 11, 3, 0, 0, 0]])
    mask = (ids != 0).long()
    trimmed = trim_vocabulary(model, torch.tensor([31, 0, 2, 3, 7, 11, 7]))
    assert isinstance(model.get_input_embeddings(), TrimmedEmbedding)
    assert trimmed.weight.shape == (6, 8) and trimmed.kept_ids.tolist() == [0, 2, 3, 7, 11, 31]
    assert trimmed.padding_idx == 0  # the pad id 0 is the first kept row
    out, expected = model(input_ids=ids, attention_mask=mask).logits, reference(input_ids=ids, attention_mask=mask).logits
    torch.testing.assert_close(out, expected)
    out.sum().backward()
    expected.sum().backward()
    full_grad = reference.get_input_embeddings().weight.grad
    torch.testing.assert_close(trimmed.weight.grad, full_grad[trimmed.kept_ids])
    assert full_grad[[i for i in range(50) if i not in trimmed.kept_ids.tolist()]].abs().max() == 0


def test_an_id_outside_the_trimmed_vocabulary_is_an_error_and_bad_kept_ids_too():
    model = _tiny_bert()
    trim_vocabulary(model, torch.tensor([0, 2, 3]))
    with pytest.raises(ValueError, match=r"token ids \[5\] are not in the trimmed vocabulary"):
        model(input_ids=torch.tensor([[2, 5, 3]]))
    for bad in (torch.tensor([], dtype=torch.long), torch.tensor([0, 50]), torch.tensor([-1, 2])):
        with pytest.raises(ValueError, match="kept_ids"):
            trim_vocabulary(_tiny_bert(), bad)


def test_restoring_the_vocabulary_writes_trained_rows_back_and_decays_the_others():
    model = _tiny_bert()
    original = model.get_input_embeddings().weight.detach().clone()
    trimmed = trim_vocabulary(model, torch.tensor([0, 4, 9]))
    with torch.no_grad():
        trimmed.weight += 1.0
    trimmed.record_weight_decay(0.1, 0.5)
    trimmed.record_weight_decay(0.2, 0.5)
    restored = restore_vocabulary(model).get_input_embeddings()
    assert type(restored) is torch.nn.Embedding and restored.weight.shape == (50, 8)
    torch.testing.assert_close(restored.weight[[0, 4, 9]], original[[0, 4, 9]] + 1.0)
    torch.testing.assert_close(restored.weight[5], original[5] * 0.95 * 0.9)
    with pytest.raises(ValueError, match="not trimmed"):
        restore_vocabulary(model)


def test_building_a_model_leaves_the_global_random_state_as_it_was():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    for spec in ("L1", "scratch"):
        build_model(spec, 3, seed=7)
        assert torch.equal(torch.random.get_rng_state(), before), spec


def _saved_tiny_bert(folder, num_labels: int = 2):
    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                        num_labels=num_labels)
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def test_a_checkpoint_of_another_label_count_gets_a_new_head_only_when_asked(tmp_path):
    folder = _saved_tiny_bert(tmp_path, num_labels=2)
    assert build_model(str(folder), num_labels=5).classifier.out_features == 5  # a new head is expected
    assert build_model(str(folder), num_labels=2, new_head=False).classifier.out_features == 2  # loads as stored
    with pytest.raises(ValueError, match="classifier"):
        build_model(str(folder), num_labels=5, new_head=False)


def test_a_checkpoint_whose_body_does_not_fit_fails_loudly(tmp_path):
    import json

    folder = _saved_tiny_bert(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["intermediate_size"] = 48  # the stored feed-forward weights no longer fit
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="does not fit.*another shape"):
        build_model(str(folder), num_labels=2)


def test_a_checkpoint_lacking_body_weights_fails_loudly():
    from helpers.learning.models import check_loading_info

    check_loading_info("ok", {"missing_keys": ["classifier.weight"], "mismatched_keys": [], "unexpected_keys": ["x"]})
    with pytest.raises(ValueError, match="missing.*encoder"):
        check_loading_info("bad", {"missing_keys": ["bert.encoder.layer.0.output.dense.weight"], "mismatched_keys": []})
