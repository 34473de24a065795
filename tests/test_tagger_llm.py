"""The LLM adapter against a local fake OpenAI-compatible endpoint (127.0.0.1 only)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from imner.errors import ConfigError
from imner.taggers import load_tagger
from imner.taggers.llm import LLMError, LLMTagger, align_mentions, chunk_sentences, parse_answer
from imner.types import Document


@pytest.fixture
def fake_endpoint():
    answers = []
    prompts = []
    bodies = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            prompts.append(body["messages"][0]["content"])
            bodies.append(body)
            content = answers.pop(0) if answers else '{"entities": []}'
            # a dict is a whole answer (usage, finish_reason); a string is the message content
            answer = content if isinstance(content, dict) else {"choices": [{"message": {"role": "assistant",
                                                                                         "content": content}}]}
            payload = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1", answers, prompts, bodies
    server.shutdown()


def test_predict_aligns_strings_and_counts_failures(fake_endpoint, tmp_path):
    url, answers, prompts, _ = fake_endpoint
    text = "She had SLE and fever. CMV PCR was negative; no fever later."
    answers.append(json.dumps({"entities": [
        {"text": "SLE", "label": "IMMUNE_DISEASE"}, {"text": "fever", "label": "SIGN_SYMPTOM"},
        {"text": "cmv", "label": "PATHOGEN"}, {"text": "fever", "label": "SIGN_SYMPTOM"},
        {"text": "lupus", "label": "IMMUNE_DISEASE"}, {"text": "x", "label": "NOT_A_LABEL"}]}))
    tagger = LLMTagger(url, max_chars=10_000)
    (spans,) = tagger.predict([Document("d1", text)])
    assert [(text[s.start:s.end], s.label) for s in spans] == [
        ("SLE", "IMMUNE_DISEASE"), ("fever", "SIGN_SYMPTOM"), ("CMV", "PATHOGEN"), ("fever", "SIGN_SYMPTOM")]
    assert spans[-1].start == text.rindex("fever")  # the second "fever" goes to the second occurrence
    assert tagger.stats["unaligned"] == 1 and tagger.unaligned["d1"] == [("lupus", "IMMUNE_DISEASE")]
    assert tagger.stats["bad_label"] == 1
    assert "She had SLE" in prompts[0] and "IMMUNE_DISEASE" in prompts[0]
    tagger.save(tmp_path / "m")
    assert isinstance(load_tagger(tmp_path / "m"), LLMTagger)


def test_long_documents_go_in_sentence_chunks(fake_endpoint):
    url, answers, prompts, _ = fake_endpoint
    text = " ".join(f"Sentence {i} mentions fever." for i in range(30))
    answers.extend(['{"entities": [{"text": "fever", "label": "SIGN_SYMPTOM"}]}'] * 100)
    (spans,) = LLMTagger(url, max_chars=100).predict([Document("d", text)])
    assert len(prompts) > 1
    assert all(text[s.start:s.end] == "fever" for s in spans)
    assert len(spans) == len(prompts)  # one answer per chunk, each aligned inside its chunk


def test_errors_are_clear(fake_endpoint):
    url, answers, _, _ = fake_endpoint
    with pytest.raises(ConfigError, match="IMNER_LLM_URL"):
        LLMTagger(None).predict([Document("d", "text.")])
    answers.append("I cannot help with that")
    with pytest.raises(LLMError, match="no JSON"):
        LLMTagger(url).predict([Document("d", "text.")])


def test_align_whitespace_insensitive_and_chunks():
    spans, lost = align_mentions("left  lower\nlobe", [("left lower lobe", "ANATOMY")])
    assert (spans[0].start, spans[0].end) == (0, 16) and lost == []
    assert parse_answer('```json\n[{"text": "a", "label": "TEMPORAL"}]\n```', ["TEMPORAL"]) == ([("a", "TEMPORAL")], 0)
    assert chunk_sentences("A b. C d. E f.", 5) == [(0, 4), (5, 9), (10, 14)]


def test_cut_off_answers_raise_or_are_counted(fake_endpoint):
    url, answers, _, bodies = fake_endpoint
    text = "Fever and SLE."
    cut = ('{"entities": [{"text": "Fever", "label": "SIGN_SYMPTOM"}, {"label": "IMMUNE_DISEASE", "text": "SLE"}, '
           '{"text": "SL')
    whole = {"choices": [{"message": {"role": "assistant", "content": cut}, "finish_reason": "length"}],
             "usage": {"prompt_tokens": 50, "completion_tokens": 16}}
    answers.append(whole)
    with pytest.raises(LLMError, match=r"document 'd', characters 0-14: the model answered invalid JSON"):
        LLMTagger(url, max_tokens=16).predict([Document("d", text)])
    assert bodies[-1]["max_tokens"] == 16
    answers.append(whole)
    tagger = LLMTagger(url, max_tokens=16, on_bad_answer="count")
    (spans,) = tagger.predict([Document("d", text)])
    assert [(text[s.start:s.end], s.label) for s in spans] == [("Fever", "SIGN_SYMPTOM"), ("SLE", "IMMUNE_DISEASE")]
    assert tagger.stats["bad_answers"] == 1 and tagger.stats["cut_at_max_tokens"] == 1
    assert tagger.stats["prompt_tokens"] == 50 and tagger.stats["completion_tokens"] == 16
    assert tagger.bad_answers["d"][0]["kept_items"] == 2
    LLMTagger(url).predict([Document("e", text)])
    assert "max_tokens" not in bodies[-1]  # no cap unless one is given
    with pytest.raises(ConfigError, match="on_bad_answer"):
        LLMTagger(url, on_bad_answer="ignore")


def test_case_insensitive_alignment_keeps_offsets_where_lower_casing_changes_length() -> None:
    text = "İİ Fever and fever"  # "İ".lower() is two characters: offsets of a lower-cased copy would be 2 off
    spans, lost = align_mentions(text, [("FEVER", "SIGN_SYMPTOM"), ("FEVER", "SIGN_SYMPTOM")])
    assert not lost and [text[s.start:s.end] for s in spans] == ["Fever", "fever"]
    assert [s.start for s in spans] == [3, 13]
