"""Reading files: encodings, delimiters, headers, cells (no database)."""

from __future__ import annotations

import pytest

from people.imports import parse


def _inspect(data: bytes, max_rows: int = 100) -> parse.FileInfo:
    return parse.inspect(lambda: iter([data[i:i + 7] for i in range(0, len(data), 7)]),
                         max_rows=max_rows)


def _rows(data: bytes, encoding: str = "utf-8-sig") -> list[parse.RowValues]:
    reader = parse.Reader.open(iter([data]), encoding)
    return [parse.row_values(raw, reader.columns) for raw in reader.rows()]


def test_gbk_file_with_chinese_headers_and_names_is_read_in_small_chunks():
    data = "邮箱,姓名,角色,语言,时区,操作\r\nlin.wei@acme.example,林伟,成员,中文,Asia/Shanghai,创建\r\n".encode("gbk")
    info = _inspect(data)
    assert (info.encoding, info.rows) == ("gb18030", 1)
    assert info.columns == ["email", "name", "role", "language", "timezone", "action"]
    [row] = _rows(data, info.encoding)
    assert (row.email, row.name, row.role, row.language, row.timezone, row.action) == (
        "lin.wei@acme.example", "林伟", "member", "zh-hans", "Asia/Shanghai", "create")


def test_utf8_with_bom_reads_the_first_column_name_without_the_mark():
    data = "\ufeffEMAIL,Name\nZhang.San@ACME.example,张三\n".encode()
    info = _inspect(data)
    assert info.encoding == "utf-8-sig" and info.columns == ["email", "name"]
    assert _rows(data)[0].email == "zhang.san@acme.example"


def test_semicolon_and_tab_files_are_sniffed_from_the_header():
    assert _inspect(b"email;name;role\na@acme.example;A;admin\n").delimiter == ";"
    assert _inspect(b"email\tname\na@acme.example\tA, Jr.\n").delimiter == "\t"
    assert _rows(b"email\tname\na@acme.example\tA, Jr.\n")[0].name == "A, Jr."


@pytest.mark.parametrize(("data", "code"), [
    ("email,name\nli@acme.example,李\n".encode("utf-16"), "encoding"),
    (b"", "empty"),
    (b"email,name\n", "no_rows"),
    (b"name,role\nA,admin\n", "missing_columns"),
    (b"email,rol\na@acme.example,admin\n", "unknown_columns"),
    (b"email,E-mail\na@acme.example,b@acme.example\n", "duplicate_columns"),
    (b'email,name\na@acme.example,"unclosed\n', "malformed"),
    (b"email\n" + b"p@acme.example\n" * 4, "too_many_rows"),
])
def test_whole_file_errors(data, code):
    with pytest.raises(parse.ImportFileError) as caught:
        _inspect(data, max_rows=3)
    assert caught.value.code == code
    assert caught.value.message  # a sentence, not the code


@pytest.mark.parametrize(("line", "code"), [
    ("not-an-address,A", "bad_email"),
    (",A", "missing_email"),
    ("a@acme.example,=HYPERLINK(\"http://x\")", "formula"),
    ("a@acme.example,+86 10", "formula"),
    ("a@acme.example,-1", "formula"),
    ("@SUM(A1),A", "formula"),
    ("a@acme.example,A,emperor", "unknown_role"),
    ("a@acme.example,A,,klingon", "unknown_language"),
    ("a@acme.example,A,,,Mars/Olympus", "unknown_timezone"),
    ("a@acme.example,A,,,,promote", "unknown_action"),
    ("a@acme.example,A,,,,,surprise", "extra_cells"),
    ("a@acme.example," + "x" * 151, "name_too_long"),
])
def test_row_errors(line, code):
    data = f"email,name,role,language,time zone,action\n{line}\n".encode()
    [row] = _rows(data)
    assert row.error_code == code
    assert parse.error_text(parse.ROW_ERRORS, row.error_code, row.error_params)


def test_roles_languages_time_zones_and_actions_read_without_regard_to_case():
    data = b"Email,Role,Language,TimeZone,Action\nA@acme.example,Administrator,ZH-Hans,asia/shanghai,Suspend\n"
    [row] = _rows(data)
    assert (row.role, row.language, row.timezone, row.action) == ("admin", "zh-hans", "Asia/Shanghai", "suspend")


def test_the_template_file_reads_back_without_errors():
    data = parse.template_csv().encode()
    assert _inspect(data).rows == 2
    assert [row.error_code for row in _rows(data)] == ["", ""]
