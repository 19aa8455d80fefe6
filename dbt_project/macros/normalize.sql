{#- Website → bare domain: lowercase, no scheme, no www., no path, query or port (SPEC 4.2). -#}
{% macro normalized_domain(column) -%}
    nullif(
        {{ replace_every_match(
            "regexp_replace(lower(trim(" ~ column ~ ")), '^[a-z][a-z0-9+.-]*://', '')",
            "'^www[.]|[/?#:].*$'", "''"
        ) }},
        ''
    )
{%- endmacro %}

{#-
  Account name → comparison key (SPEC 4.2): lowercase, accents and punctuation removed,
  trailing legal suffixes removed. "ACME, Inc." and "Acme Co. LLC" both become "acme".
-#}
{% macro normalized_company_name(column) -%}
    nullif(
        regexp_replace(
            trim({{ replace_every_match(
                without_accents("lower(coalesce(" ~ column ~ ", ''))"), "'[^a-z0-9]+'", "' '"
            ) }}),
            '( (inc|incorporated|llc|ltd|limited|gmbh|sa|bv|corp|corporation|co|plc|ag|sarl|srl|oy|ab|nv|pty|kg))+$',
            ''
        ),
        ''
    )
{%- endmacro %}

{#-
  regexp_replace of every match. DuckDB replaces the first match unless told 'g'; Spark
  replaces every match and reads a fourth argument as the position to start at, so 'g'
  there is silently null. Patterns are written without backslashes, which Spark's string
  literals would eat ('\.' is '.' there: `[.]` is a dot on both).
-#}
{% macro replace_every_match(value, pattern, replacement) -%}
    {{ return(adapter.dispatch('replace_every_match', 'recurwise')(value, pattern, replacement)) }}
{%- endmacro %}

{% macro default__replace_every_match(value, pattern, replacement) -%}
    regexp_replace({{ value }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}

{% macro spark__replace_every_match(value, pattern, replacement) -%}
    regexp_replace({{ value }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}

{#-
  The text without accents, for the name key (SPEC 4.2), of text already lowercased:
  DuckDB's strip_accents (decompose, drop the combining marks). Spark has no such
  function: translate() maps each accented Latin letter to DuckDB's letter for it, then
  every combining mark (\p{M}) is removed, which covers names typed decomposed (e + U+0301)
  and Spark's lower('İ') = 'i' + U+0307.

  The map was generated, not typed, from DuckDB's own strip_accents, by
      select string_agg(letter, '' order by letter), string_agg(key_letter, '' order by letter)
      from (select distinct lower(chr(cp::int)) as letter,
                   strip_accents(lower(chr(cp::int))) as key_letter
            from range(192, 7936) as t (cp))
      where key_letter <> letter and regexp_full_match(key_letter, '[a-z0-9]')
  (U+00C0 to U+1EFF: Latin-1, Latin Extended-A and -B, IPA, ..., Latin Extended
  Additional; 246 letters). Checked: the name key of both engines is equal on every
  account name of the demo, on 300,000 names of synthetic_crm (every vocabulary word,
  suffix and retyping variant), on the seed-docs' lines and quoted examples, and on every
  character of the Basic Multilingual Plane (U+0020 to U+FFFF, no surrogates) alone, between
  two letters and inside "Acme _ Inc." (490,174 names; domains: 300,621, all equal), except
  37 combining marks newer than Java 17's Unicode 13 (U+0898-089F, U+08CA-08D2, U+0C3C,
  U+0CF3, U+0ECE, U+1715, U+180F, U+1AC1-1ACE, U+1DFA): between letters DuckDB drops them,
  Spark keeps a space ("ab" against "a b"). Not checked: characters beyond the BMP. A
  letter DuckDB strips to something other than a-z/0-9 (Greek, Cyrillic) is a space in
  both keys, so it needs no entry.
-#}
{% macro without_accents(lowercased) -%}
    {{ return(adapter.dispatch('without_accents', 'recurwise')(lowercased)) }}
{%- endmacro %}

{% macro default__without_accents(lowercased) -%}
    strip_accents({{ lowercased }})
{%- endmacro %}

{% macro spark__without_accents(lowercased) -%}
    {%- set accented = 'àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžơưǎǐǒǔǖǘǚǜǟǡǧǩǫǭǰǵǹǻȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳḁḃḅḇḉḋḍḏḑḓḕḗḙḛḝḟḡḣḥḧḩḫḭḯḱḳḵḷḹḻḽḿṁṃṅṇṉṋṍṏṑṓṕṗṙṛṝṟṡṣṥṧṩṫṭṯṱṳṵṷṹṻṽṿẁẃẅẇẉẋẍẏẑẓẕẖẗẘẙạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ' -%}
    {%- set unaccented = 'aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzouaiouuuuuaagkoojgnaaaeeiioorruusthaeooooyabbbcdddddeeeeefghhhhhiikkkllllmmmnnnnoooopprrrrsssssttttuuuuuvvwwwwwxxyzzzhtwyaaaaaaaaaaaaeeeeeeeeiioooooooooooouuuuuuuyyyy' -%}
    regexp_replace(translate({{ lowercased }}, '{{ accented }}', '{{ unaccented }}'), '\\p{M}', '')
{%- endmacro %}
