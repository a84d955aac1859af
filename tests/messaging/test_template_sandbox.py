"""The template sandbox: known Jinja2 escape payloads fail safely, errors name the place."""

from __future__ import annotations

import pytest

from tokui.messaging.context import ShopInfo, sample_context
from tokui.messaging.htmltext import html_to_text
from tokui.messaging.templates import TemplateRenderError, TemplateSource, render_part

CONTEXT = sample_context(ShopInfo(name="とくい食品"))


def _html(source: str, key: str = "t") -> str:
    return render_part(TemplateSource(key, 1, html=source), "html", CONTEXT)


def _plain(source: str) -> str:
    return render_part(TemplateSource("t", 1, subject=source), "subject", CONTEXT)


ESCAPES = [
    # The classic SSTI chain to subprocess.Popen and friends.
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__.__base__.__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ customer.__class__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ request.application.__globals__ }}",
    "{{ ''|attr('__class__') }}",
    "{{ ''['__class__'] }}",
    "{{ (customer|attr('\\x5f\\x5fclass\\x5f\\x5f')) }}",
    # Format-string attacks reach attributes through str.format (CVE-2019-10906 family).
    "{{ '{0.__class__}'.format(customer) }}",
    "{{ '{0.__class__.__mro__}'.format('') }}",
    "{{ '{0.__init__.__globals__}'.format(cycler) }}",
    "{{ '{0.__class__}'.format_map({'0': 1}) }}",
    "{{ ('{0.__class__}'.format)(1) }}",
    "{% set f = '{0.__class__}'.format %}{{ f(1) }}",
    # Mutating the context (the immutable sandbox).
    "{{ coupons.append(1) }}",
    "{{ customer.update({'name': 'x'}) }}",
    "{{ customer.clear() }}",
    # Building huge values.
    "{{ 'a' * 100000000 }}",
    "{{ [1] * 100000000 }}",
    "{{ 9 ** 9999999 }}",
    "{% for i in range(100000000) %}{% endfor %}",
]


@pytest.mark.parametrize("payload", ESCAPES)
def test_escape_payloads_fail_safely(payload: str) -> None:
    for render in (_html, _plain):
        try:
            out = render(payload)
        except TemplateRenderError as exc:
            assert exc.template == "'t' v1"
            continue
        # Rendering without an error is acceptable only when nothing leaked.
        assert "class" not in out and "globals" not in out and "uid=" not in out, out
        assert len(out) < 10_000


def test_allowed_features_work() -> None:
    out = _html(
        "{% for c in coupons %}{{ c.code }}{% else %}なし{% endfor %}"
        "{{ customer.name }}様 {{ points.balance | number }}pt {{ customer.monetary | yen }} "
        "{{ '{}さん'.format(customer.name) }} {{ 'ab' * 3 }} {{ 2 ** 10 }}"
    )
    assert out == "なし得意 花子様 1,200pt ¥24,800 得意 花子さん ababab 1024"


def test_undefined_names_the_template_part_and_line() -> None:
    source = TemplateSource("winter", 3, html="<p>こんにちは</p>\n<p>{{ customer.nam }}</p>")
    with pytest.raises(TemplateRenderError) as info:
        render_part(source, "html", CONTEXT)
    assert (info.value.template, info.value.part, info.value.line) == ("'winter' v3", "html", 2)
    assert str(info.value) == (
        "template 'winter' v3, html, line 2: undefined value: 'dict object' has no attribute 'nam'"
    )


def test_syntax_error_names_the_line() -> None:
    source = TemplateSource("winter", 3, subject="ok", html="a\nb\n{% if %}\n")
    with pytest.raises(TemplateRenderError) as info:
        render_part(source, "html", CONTEXT)
    assert info.value.line == 3
    assert str(info.value).startswith("template 'winter' v3, html, line 3: ")


def test_security_error_names_the_line() -> None:
    source = TemplateSource("winter", 3, html="\n\n\n{{ cycler.__init__.__globals__ }}")
    with pytest.raises(TemplateRenderError) as info:
        render_part(source, "html", CONTEXT)
    assert info.value.line == 4
    assert "not allowed in templates" in str(info.value) or "undefined" in str(info.value)


def test_html_autoescapes_and_plain_does_not() -> None:
    hostile = {**CONTEXT, "customer": {**CONTEXT["customer"], "name": "<b>&x</b>"}}
    src = TemplateSource("t", 1, subject="{{ customer.name }}", html="{{ customer.name }}")
    assert render_part(src, "html", hostile) == "&lt;b&gt;&amp;x&lt;/b&gt;"
    assert render_part(src, "subject", hostile) == "<b>&x</b>"


def test_html_to_text() -> None:
    html = (
        "<html><head><style>p{color:red}</style><title>x</title></head><body>"
        "<h1>冬の&amp;セール</h1><p>いつも<br>ありがとう</p>"
        "<ul><li>米</li><li>味噌</li></ul>"
        '<p><a href="https://shop.example/a">見る</a> <a href="https://shop.example/b">'
        'https://shop.example/b</a></p><img alt="ロゴ" src="x"><script>x()</script>'
        "</body></html>"
    )
    assert html_to_text(html) == (
        "冬の&セール\n\nいつも\nありがとう\n\n・米\n\n・味噌\n\n"
        "見る ( https://shop.example/a ) https://shop.example/b\nロゴ\n"
    )
