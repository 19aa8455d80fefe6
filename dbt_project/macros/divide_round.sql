{#-
  numerator / denominator rounded half away from zero to `scale` decimals, exactly.

  DuckDB divides decimals in double precision, so `round(a / b, 2)` rounds many
  half-cents the wrong way (0.15 / 2 gives 0.07; over a million divided lines that moved
  about $20). Here both sides are scaled to 128-bit integers and divided with integer
  arithmetic instead. numerator_scale / denominator_scale are the decimals the inputs
  carry (amounts 2, raw quantities and prices 4, conversion rates 8, counts 0): exact for
  inputs with at most that many decimals. Returns decimal(38, scale); callers cast it.
-#}
{% macro divide_round(numerator, denominator, scale=2, numerator_scale=2, denominator_scale=0) -%}
    {{ return(adapter.dispatch('divide_round', 'recurwise')(
        numerator, denominator, scale, numerator_scale, denominator_scale
    )) }}
{%- endmacro %}

{% macro default__divide_round(numerator, denominator, scale, numerator_scale, denominator_scale) -%}
    {%- set shift = denominator_scale + scale - numerator_scale -%}
    {%- set scaled_numerator -%}
        cast(cast({{ numerator }} as decimal(38, {{ numerator_scale }})) * {{ 10 ** numerator_scale }} as hugeint)
        {%- if shift > 0 %} * {{ 10 ** shift }}{% endif -%}
    {%- endset -%}
    {%- set scaled_denominator -%}
        {%- if denominator_scale == 0 -%}
            cast({{ denominator }} as hugeint)
        {%- else -%}
            cast(cast({{ denominator }} as decimal(38, {{ denominator_scale }})) * {{ 10 ** denominator_scale }} as hugeint)
        {%- endif -%}
        {%- if shift < 0 %} * {{ 10 ** (-shift) }}{% endif -%}
    {%- endset -%}
    (
        cast(
            sign({{ numerator }}) * sign({{ denominator }})
            * ((abs({{ scaled_numerator }}) * 2 + abs({{ scaled_denominator }}))
                // (abs({{ scaled_denominator }}) * 2))
            as decimal(38, 0)
        ) * {{ '1' if scale == 0 else '0.' ~ '0' * (scale - 1) ~ '1' }}
    )
{%- endmacro %}
