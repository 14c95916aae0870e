from copilot.ui.render import highlight, markdown_html, message_html, sanitize_html


def test_scripts_styles_and_images_are_removed() -> None:
    raw = (
        "<p>Hi</p><script>steal()</script><style>p{}</style><img src='https://t.example/p.gif'>"
        "<a href='javascript:alert(1)'>x</a><a href='https://ok.example'>ok</a><iframe src='https://x'></iframe>"
    )
    clean = sanitize_html(raw)
    assert "steal" not in clean and "<script" not in clean and "<style" not in clean
    assert "<img" not in clean and "<iframe" not in clean and "javascript:" not in clean
    assert 'href="https://ok.example"' in clean and "<p>Hi</p>" in clean


def test_plain_text_is_escaped_and_markdown_is_sanitised() -> None:
    assert "&lt;b&gt;" in message_html("<b>not bold</b>", "text")
    assert "<script" not in markdown_html("# T\n\n<script>x()</script>\n\n**bold**")
    assert "<strong>bold</strong>" in markdown_html("**bold**")


def test_highlight_marks_whole_words_from_stems() -> None:
    assert highlight("Refunds go to <card>", ["refund"]) == "<b>Refunds</b> go to &lt;card&gt;"
