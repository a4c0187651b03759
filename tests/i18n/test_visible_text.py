"""The English-sentence detector the Chinese page walk relies on: it finds what a person reads
and leaves data alone."""

from __future__ import annotations

from tests.i18n.visible import english_sentences, visible_text


def test_an_english_sentence_in_a_chinese_page_is_found():
    page = "<main><h1>登录</h1><p>Enter the code from your app.</p></main>"
    assert english_sentences(page) == ["Enter the code from your app"]


def test_what_a_person_reads_in_attributes_is_read_too():
    page = ('<input placeholder="Search by name"><button aria-label="Close this dialog">x</button>'
            '<input type="submit" value="Send the link now">')
    assert english_sentences(page) == ["Search by name", "Close this dialog", "Send the link now"]


def test_scripts_styles_and_markup_are_not_text():
    page = ('<script>var message = "This is not read";</script><style>.a-b-c{}</style>'
            '<p class="some class names here">中文</p>')
    assert visible_text(page) == ["中文"]
    assert english_sentences(page) == []


def test_data_values_are_not_interface():
    page = ("<td>owner@acme.example</td><td>203.0.113.7</td><td>2001:db8::1</td>"
            "<td>Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 like Gecko</td>"
            "<td>https://mail-admin.example.com/some/long/path</td>"
            "<td>Google or Microsoft Authenticator</td><td>Bob the Builder</td>")
    assert english_sentences(page, data_values=["Bob the Builder"]) == []
    assert english_sentences(page) == ["Bob the Builder"]


def test_time_zone_names_are_data():
    page = ('<select name="timezone"><option>America/North_Dakota/New Salem, North Dakota</option>'
            '</select><select name="role"><option>Read only auditor role</option></select>')
    assert english_sentences(page) == ["Read only auditor role"]


def test_two_words_or_chinese_with_an_english_term_pass():
    assert english_sentences("<p>上次使用 Apple Mail 登录</p><p>JSON Lines</p><td>Sign in</td>") == []
