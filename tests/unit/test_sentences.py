"""Sentence splitting per script (engine.sentences): translation and speech work sentence by
sentence, so a script whose end marks are missed is never translated before its segment ends."""

from __future__ import annotations

import pytest

from engine.sentences import split_sentences

CASES = {
    "english": ("It costs 3.5 euros! Really? Dr. Smith said so. Yes", 4),
    "spanish": ("¿Dónde está la estación? Está allí. ¡Gracias!", 3),
    "hindi": ("मेरा नाम अन्ना है। मैं बर्लिन में रहती हूँ। आप कैसे हैं?", 3),
    "marathi": ("माझे नाव अन्ना आहे। मी बर्लिनमध्ये राहते॥ धन्यवाद", 3),
    "bengali": ("আমার নাম আনা। আমি বার্লিনে থাকি।", 2),
    "arabic": ("أين محطة القطار؟ إنها هناك. شكرا لك", 3),
    "persian": ("ایستگاه قطار کجاست؟ آنجاست.", 2),
    "urdu": ("میرا نام انا ہے۔ آپ کیسے ہیں؟ شکریہ۔", 3),
    "amharic": ("ስሜ አና ነው። እንዴት ነህ፧ አመሰግናለሁ።", 3),
    "armenian": ("Իմ անունը Աննա է։ Ես ապրում եմ Բեռլինում։", 2),
    "greek": ("Πού είναι ο σταθμός; Είναι εκεί. Ευχαριστώ", 3),
    "chinese": ("你好。今天天气很冷！你去哪儿？我去车站", 4),
    "japanese": ("駅はどこですか？「ありがとう。」と言った。", 2),
    "korean": ("역이 어디예요? 저기 있어요. 감사합니다", 3),
    "myanmar": ("ကျွန်မနာမည် အန်နာ ဖြစ်ပါတယ်။ ကျေးဇူးတင်ပါတယ်။", 2),
    "khmer": ("ខ្ញុំឈ្មោះអាណា។ អរគុណ។", 2),
    "full-width latin": ("Ｈｅｌｌｏ．Ｂｙｅ！", 2),
}


@pytest.mark.parametrize("script", list(CASES))
def test_each_script_is_split_at_its_own_end_marks(script: str) -> None:
    text, count = CASES[script]
    sentences = split_sentences(text)
    assert len(sentences) == count, sentences
    assert "".join(sentences).replace(" ", "") == text.replace(" ", "")  # nothing lost
    assert all(s == s.strip() and s for s in sentences)


def test_marks_stay_with_their_sentence_and_closing_quotes_too() -> None:
    assert split_sentences('He said "stop." Then he left.') == ['He said "stop."', "Then he left."]
    assert split_sentences("他说：“你好。”我走了。") == ["他说：“你好。”", "我走了。"]
    assert split_sentences("मेरा नाम अन्ना है। आप?") == ["मेरा नाम अन्ना है।", "आप?"]


def test_numbers_abbreviations_and_ascii_semicolons_do_not_split() -> None:
    assert split_sentences("Version 3.5.1 costs 2.50 euros, e.g. today.") == [
        "Version 3.5.1 costs 2.50 euros, e.g. today."
    ]
    assert split_sentences("one; two; three") == ["one; two; three"]
    assert split_sentences("Mr. Jones met Prof. Li.") == ["Mr. Jones met Prof. Li."]


def test_text_without_end_marks_is_one_sentence() -> None:
    assert split_sentences("สวัสดีครับ ยินดีที่ได้รู้จัก") == ["สวัสดีครับ ยินดีที่ได้รู้จัก"]
    assert split_sentences("  ") == []
