#!/usr/bin/env python3
"""Golden data for the Swift WordPiece tokenizer (Sources/OnboardText), from the Hugging Face
FAST tokenizer of the real all-MiniLM-L6-v2 (tokenizer.json: BertNormalizer, BertPreTokenizer,
WordPiece), called as sentence-transformers calls it (truncation="longest_first", max_length=256).

Writes
  Tests/Fixtures/text/tokenizer_cases.json    texts (JSON-escaped: some hold control characters),
                                              their ids and the word pieces truncation dropped;
  Tests/Fixtures/text/tokenizer_scalars.json  a CRC-32 per block of 4096 code points of what the
                                              normalizer + pre-tokenizer make of "a" + c + "b" and
                                              "a" + U+1D16D + c + "b" for every scalar c (the second
                                              shows canonical reordering), so the Swift test checks
                                              the Unicode tables on all of Unicode in a few kB.

  --dump-scalars PATH  also writes the per-scalar lines themselves (about 40 MB) for diffing.

Run with the language venv (transformers 5.x, tokenizers 0.23, sentence-transformers):
  /work/venv-lang/bin/python tools/make_tokenizer_fixtures.py
The model directory is $ONBOARD_MINILM_DIR or ~/.cache/onboard/all-MiniLM-L6-v2 (tools/fetch_minilm.sh).
Deterministic: no randomness; rerunning with the same library versions rewrites the same files.
"""
import argparse
import json
import os
import sys
import zlib

MAX_LENGTH = 256
BLOCK = 4096
REORDER_MARK = "\U0001D16D"  # MUSICAL SYMBOL COMBINING AUGMENTATION DOT: Mc (kept), combining class 226


def model_dir():
    path = os.environ.get("ONBOARD_MINILM_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "onboard", "all-MiniLM-L6-v2")
    if not os.path.isfile(os.path.join(path, "tokenizer.json")):
        sys.exit(f"{path}: no tokenizer.json (run tools/fetch_minilm.sh)")
    return path


def long_text(words, sentence):
    """`sentence` repeated until it has at least `words` words (cut there)."""
    parts = sentence.split()
    return " ".join((parts * (words // len(parts) + 1))[:words])


def cases():
    """(name, text) pairs; about a hundred, grouped by what they exercise."""
    c = []
    add = lambda name, text: c.append((name, text))
    # plain English
    add("plain_sentence", "The quick brown fox jumps over the lazy dog.")
    add("plain_question", "How many sentences can the model embed per second on a laptop CPU?")
    add("plain_mixed_case", "NASA and the ESA launched JWST; McDonald's iPhone eBay")
    add("plain_subwords", "Unbelievably, the tokenizer's wordpieces handle antidisestablishmentarianism.")
    add("plain_contractions", "I'm sure they'll say it's fine, isn't it? We'd've known.")
    add("plain_multiline", "First line.\nSecond line.\r\nThird line.\rFourth.")
    add("plain_single_letter", "a")
    add("plain_empty", "")
    add("plain_only_spaces", "   \t \n  ")
    add("plain_leading_trailing", "\u3000\u00a0  padded text \t\u2029")
    # punctuation
    add("punct_ascii_all", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    add("punct_ascii_glued", "a!b\"c#d$e%f&g'h(i)j*k+l,m-n.o/p:q;r<s=t>u?v@w[x\\y]z^_`{|}~end")
    add("punct_quotes", "\u201cDouble\u201d \u2018single\u2019 \u00abguillemets\u00bb \u201elow\u201c \u2039one\u203a \u300cCJK\u300d")
    add("punct_dashes", "en\u2013dash em\u2014dash figure\u2012dash bar\u2015 minus\u2212sign hyphen\u2010x non\u2011break")
    add("punct_ellipsis_bullets", "Wait\u2026 what\u203d \u2022 item \u00b7 middle \u2020 dagger \u00a7 1 \u00b6 2")
    add("punct_inverted", "\u00bfQu\u00e9? \u00a1Hola! \u00bfC\u00f3mo est\u00e1s?")
    add("punct_symbols_not_split", "\u00a9 2024 Acme\u00ae \u2122 \u20ac5 \u00a37 \u00a59 \u00b1 3\u00d74 \u00f7 \u2248 \u221e \u00b0C")
    add("punct_cjk_fullwidth", "\u4f60\u597d\u3002\u4e16\u754c\uff0c\u518d\u89c1\uff01\uff08\u62ec\u53f7\uff09\u3001\u3010\u6807\u9898\u3011")
    add("punct_repeated", "?!?!... ---- ((( ))) ''' \"\"\"")
    # accents and combining marks
    add("accent_precomposed", "caf\u00e9 na\u00efve El Ni\u00f1o \u00dcber \u00c5ngstr\u00f6m r\u00e9sum\u00e9 fa\u00e7ade")
    add("accent_combining", "cafe\u0301 n\u0303 a\u0300\u0301\u0302\u0303 o\u0308\u0304 e\u0327\u0306")
    add("accent_vietnamese", "Ti\u1ebfng Vi\u1ec7t c\u00f3 nhi\u1ec1u d\u1ea5u: \u1eddi \u1ee3 \u1ef9")
    add("accent_compat_signs", "\u212b \u212a elvin \u2126hm \u00c5 A\u030a")
    add("accent_ligatures", "\ufb01nance \ufb02ow \ufb00 \u0133 \u00e6sthetic \u0153uvre")
    add("accent_stacked_marks_only", "\u0301\u0302\u0303 x\u0301\u0301\u0301\u0301")
    add("accent_greek_tonos", "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac \u03ac\u03ad\u03ae\u03af\u03cc\u03cd\u03ce \u0390")
    add("accent_arabic_harakat", "\u0627\u0644\u0633\u0651\u064e\u0644\u0627\u0645\u064f \u0639\u064e\u0644\u064e\u064a\u0652\u0643\u064f\u0645\u0652")
    add("accent_hebrew_niqqud", "\u05e9\u05b8\u05c1\u05dc\u05d5\u05b9\u05dd \u05e2\u05d5\u05b9\u05dc\u05b8\u05dd")
    add("accent_devanagari", "\u0939\u093f\u0928\u094d\u0926\u0940 \u092d\u093e\u0937\u093e \u0915\u094d\u0937")
    add("accent_thai", "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22 \u0e01\u0e34\u0e19\u0e02\u0e49\u0e32\u0e27")
    # case mappings
    add("case_turkish", "\u0130stanbul \u0130I\u0131i D\u0130YARBAKIR \u0131s\u0131k")
    add("case_sharp_s", "Stra\u00dfe STRASSE \u1e9e gro\u00df")
    add("case_greek_sigma", "\u03a3\u0399\u03a3\u03a5\u03a6\u039f\u03a3 \u03c3\u03bf\u03c6\u03cc\u03c2 \u039f\u0394\u039f\u03a3 \u03c2")
    add("case_titlecase_digraphs", "\u01c5 \u01c4 \u01c6 \u01c8ubljana \u01cbo")
    add("case_cyrillic_armenian", "\u041c\u043e\u0441\u043a\u0432\u0430 \u0401\u041b\u041a\u0410 \u0535\u0580\u0587\u0561\u0576")
    add("case_georgian_cherokee", "\u1c90\u1c91\u1c92 \u10d0\u10d1\u10d2 \u13a0\u13a1 \uab70")
    add("case_roman_numerals", "\u216b \u2160\u2161\u2162 \u217b")
    add("case_deseret_fullwidth", "\U00010400\U00010401 \uff21\uff22\uff23 \uff41\uff42\uff43 \uff11\uff12\uff13")
    # CJK and other scripts
    add("cjk_chinese", "\u6211\u7231\u81ea\u7136\u8bed\u8a00\u5904\u7406\u3002\u4eca\u5929\u5929\u6c14\u5f88\u597d")
    add("cjk_japanese", "\u79c1\u306f\u6771\u4eac\u306b\u4f4f\u3093\u3067\u3044\u307e\u3059\u3002\u30ab\u30bf\u30ab\u30ca\u3068\u3072\u3089\u304c\u306a")
    add("cjk_kana_dakuten", "\u30ac\u30ae\u30b0 \u304c\u304e \u30d1\u30d4 \u30f4")
    add("cjk_halfwidth_katakana", "\uff76\uff80\uff76\uff85 \uff8a\uff9f")
    add("cjk_korean", "\ud55c\uad6d\uc5b4 \ubb38\uc7a5\uc785\ub2c8\ub2e4. \uc548\ub155\ud558\uc138\uc694")
    add("cjk_mixed_latin", "GPT-4\u6a21\u578b\u5728iPhone\u4e0a\u8fd0\u884c5\u5206\u949f")
    add("cjk_extensions", "\U00020000\U0002a6d6 \U0002a700 \U0002b740 \U0002b820 \U0002b91f \U0002b920 \U0002ceaf \u3400")
    add("cjk_compat_ideographs", "\uf900\uf901 \ufa10 \U0002f800 \U0002fa1d")
    add("cjk_radicals_not_cjk", "\u2f00\u2f01 \u2e80 \u3005 \u3007 \u30fc")
    add("script_misc", "\u0e9e\u0eb2\u0eaa\u0eb2\u0ea5\u0eb2\u0ea7 \u1200\u1208 \u16a0\u16c7\u16bb \u0d2e\u0d32\u0d2f\u0d3e\u0d33\u0d02")
    # emoji
    add("emoji_basic", "I love it \U0001f600\U0001f60d\U0001f44d!")
    add("emoji_skin_tone", "\U0001f44d\U0001f3fd \U0001f44b\U0001f3ff wave")
    add("emoji_zwj_family", "family: \U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 ok")
    add("emoji_flags_keycaps", "\U0001f1fa\U0001f1f8 \U0001f1ef\U0001f1f5 1\ufe0f\u20e3 #\ufe0f\u20e3")
    add("emoji_variation", "\u2764\ufe0f \u2764 \u263a\ufe0f \u2603 snow\u2603man")
    add("emoji_new", "\U0001f970 \U0001fae0 \U0001f9d1\u200d\U0001f4bb")
    # control and zero-width
    add("ctrl_c0", "a\x00b\x01c\x07d\x1be\x7ff")
    add("ctrl_vt_ff_fs", "one\x0btwo\x0cthree\x1cfour\x1dfive\x1esix\x1fseven")
    add("ctrl_c1", "x\x80y\x85z\x9fw")
    add("ctrl_zero_width", "zero\u200bwidth non\u200cjoin join\u200der word\u2060joiner \ufeffbom")
    add("ctrl_soft_hyphen", "hyph\u00adenation co\u00adop\u00aderate")
    add("ctrl_bidi_marks", "left\u200eright\u200f \u202aembed\u202c \u2066iso\u2069")
    add("ctrl_replacement", "bad\ufffdbyte \ufffd\ufffd ok")
    add("ctrl_private_use", "pua\ue000char \U000f0000 \U0010fffd end")
    add("ctrl_unassigned_nonchar", "un\u0378assigned \uffff \U0001fffe x\U000e0001y tag\U000e0041\U000e007fs")
    add("ctrl_only", "\x00\x01\u200b\ufeff")
    add("ctrl_mongolian_separator", "a\u180eb c\u180ed")
    # whitespace
    add("space_tabs_runs", "tab\tseparated\t\tvalues   and    runs")
    add("space_nbsp_ideographic", "no\u00a0break thin\u2009space ideo\u3000graphic narrow\u202fnbsp")
    add("space_unicode_separators", "line\u2028sep para\u2029sep ogham\u1680mark hair\u200aspace med\u205fmath")
    add("space_en_em", "en\u2002em\u2003three\u2004four\u2005six\u2006fig\u2007punct\u2008")
    add("space_newlines_cr", "a\r\nb\rc\n\nd")
    # numbers
    add("num_basic", "3.14159 1,000,000 2024-05-01 10:30pm 007 -42 +7 1e-9")
    add("num_fractions_super", "\u00bd \u00bc \u00be x\u00b2 H\u2082O 10\u2076 \u2153")
    add("num_other_digits", "\u0663\u0664\u0665 \u096a\u096b \uff14\uff15 \U0001d7ce\U0001d7cf")
    add("num_currency", "$100 \u20ac99.99 \u00a35 \u00a5300 \u20b9250 \u20bf0.01")
    add("num_long_digits", "12345678901234567890123456789012345678901234567890")
    # URLs, emails, code
    add("url_https", "See https://www.example.com/path/to/page?query=1&x=2#section for details.")
    add("url_email", "Contact first.last+tag@example.co.uk or admin@sub.domain.org")
    add("url_paths", "C:\\Users\\me\\file.txt /usr/local/bin/swift ~/.cache/onboard")
    add("url_code", "func f(x: Int) -> [Int] { return x.map { $0 * 2 } } // done")
    add("url_hashtags", "#NLP @user_name #100DaysOfCode")
    # long words
    add("long_word_100", "a" * 100)
    add("long_word_101", "a" * 101)
    add("long_word_101_mixed", "x" + "ab" * 50 + " then normal words")
    add("long_word_marks_count_after_nfd", "e\u0301" * 60)
    add("long_word_cjk_not_one_word", "\u4e2d" * 120)
    add("long_word_famous", "pneumonoultramicroscopicsilicovolcanoconiosis Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch")
    add("long_word_punct_splits", ("abc-" * 40) + "end")
    # unknown words
    add("unk_runes", "\u16a0\u16c7\u16bb\u16de\u16b1 runes")
    add("unk_math_alnum", "\U0001d518\U0001d52b\U0001d526\U0001d520\U0001d52c\U0001d521\U0001d522 \U0001d400\U0001d401")
    add("unk_partial", "abc\u2603def x\U0001f600y")
    add("unk_private_script", "\ua000\ua001 \U00012000 \U00013000")
    # literal special tokens
    add("special_cls_sep", "[CLS] hello world [SEP]")
    add("special_all", "[PAD] [UNK] [CLS] [SEP] [MASK]")
    add("special_glued", "x[PAD]y[MASK]z[SEP][CLS]")
    add("special_lowercase_not_special", "[cls] [sep] [Mask] [ CLS ]")
    add("special_nested_partial", "[[CLS]] [CLS [SEP [MASK]]")
    add("special_with_zero_width", "[CL\u200bS] [SE\u00adP]")
    add("special_unused_not_special", "[unused0] [unused99] [unused1000]")
    add("special_only", "[MASK]")
    add("special_accents_next", "\u00e9[MASK]\u0301 caf\u00e9[SEP]")
    # exotic scalars where the Rust tables differ from current Unicode (see ScalarClass.swift)
    add("exotic_category_changes", "a\u166db a\U000111c9b a\u1734b a\U0001171eb a\u1885b a\ua9bdb")
    add("exotic_post8_marks_kept", "a\u08d4b a\u0afab a\U00011a01b a\u2e43b a\u2e4fb")
    add("exotic_nfd_tables", "a\U00011938b a\U0001d16d\u07fdb a\U0001d16d\u0301b")
    add("exotic_cjk_2b820", "\U0002b820\U0002b821x \U0002b91f\U0002b920")
    # truncation
    add("trunc_english_300_words", long_text(300, "Sentence embeddings map each text to a vector so that similar meanings lie close together."))
    add("trunc_cjk_300_chars", "\u6211\u7231\u81ea\u7136\u8bed\u8a00\u5904\u7406" * 38)
    add("trunc_exactly_254_pieces", " ".join(["word"] * 254))
    add("trunc_255_pieces", " ".join(["word"] * 255))
    add("trunc_253_pieces", " ".join(["word"] * 253))
    add("trunc_inside_word", " ".join(["word"] * 253) + " antidisestablishmentarianism tail")
    add("trunc_special_at_cut", " ".join(["word"] * 253) + " [SEP] [MASK] more")
    add("trunc_unk_and_marks", long_text(260, "caf\u00e9 \u2603\u2603 na\u0308i\u0308ve \U0001f600 \u4e2d\u6587"))
    return c


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "text"))
    parser.add_argument("--dump-scalars", metavar="PATH")
    args = parser.parse_args()

    import tokenizers
    import transformers
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer

    path = model_dir()
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert tokenizer.is_fast, "the golden data must come from the fast tokenizer"
    model = SentenceTransformer(path, device="cpu")
    assert model.max_seq_length == MAX_LENGTH, model.max_seq_length
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id

    records = []
    names = set()
    for name, text in cases():
        assert name not in names, name
        names.add(name)
        direct = tokenizer(text, truncation="longest_first", max_length=MAX_LENGTH)["input_ids"]
        features = model.preprocess([text])
        st = [int(i) for i, m in zip(features["input_ids"][0], features["attention_mask"][0]) if m]
        assert st == direct, f"{name}: sentence-transformers and the tokenizer disagree"
        pieces = tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"]
        dropped = max(0, len(pieces) - (MAX_LENGTH - 2))
        assert direct == [cls_id] + pieces[:MAX_LENGTH - 2] + [sep_id], name
        if dropped:
            assert len(direct) == MAX_LENGTH and direct[-1] == sep_id, name
        records.append({"name": name, "text": text, "ids": direct, "dropped": dropped})

    os.makedirs(args.out, exist_ok=True)
    header = {
        "generator": "tools/make_tokenizer_fixtures.py",
        "model": "sentence-transformers/all-MiniLM-L6-v2 (tokenizer.json, fast tokenizer)",
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "max_length": MAX_LENGTH,
    }
    with open(os.path.join(args.out, "tokenizer_cases.json"), "w", encoding="ascii") as f:
        f.write(json.dumps(header, ensure_ascii=True)[:-1] + ', "cases": [\n')
        f.write(",\n".join(json.dumps(r, ensure_ascii=True) for r in records))
        f.write("\n]}\n")

    normalizer = tokenizer.backend_tokenizer.normalizer
    pre_tokenizer = tokenizer.backend_tokenizer.pre_tokenizer

    def words(text):
        pieces = pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text))
        return "|".join(".".join("%X" % ord(ch) for ch in piece) for piece, _ in pieces)

    crcs = []
    dump = open(args.dump_scalars, "w", encoding="ascii") if args.dump_scalars else None
    for block_start in range(0, 0x110000, BLOCK):
        lines = []
        for cp in range(block_start, block_start + BLOCK):
            if 0xD800 <= cp <= 0xDFFF:
                continue
            ch = chr(cp)
            lines.append("%X\t%s\t%s\n" % (cp, words("a" + ch + "b"), words("a" + REORDER_MARK + ch + "b")))
        text = "".join(lines)
        if dump:
            dump.write(text)
        crcs.append("%08x" % zlib.crc32(text.encode("ascii")))
    if dump:
        dump.close()
    scalars = dict(header, block=BLOCK,
                   line="'%X\\t' + words('a' + c + 'b') + '\\t' + words('a' + U+1D16D + c + 'b') + '\\n' per scalar c "
                        "(surrogates skipped); words: the pre-tokenized normalized text, each word as '.'-joined hex "
                        "scalars, words joined by '|'; crc32 (zlib) of the ASCII lines of each block of code points",
                   crc32=crcs)
    del scalars["max_length"]
    with open(os.path.join(args.out, "tokenizer_scalars.json"), "w", encoding="ascii") as f:
        json.dump(scalars, f, indent=0)
        f.write("\n")
    print(f"{len(records)} cases, {sum(1 for r in records if r['dropped'])} truncated; {len(crcs)} scalar blocks")


if __name__ == "__main__":
    main()
