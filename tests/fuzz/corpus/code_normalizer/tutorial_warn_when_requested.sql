-- Fails with severity warn, only when --vars '{orc_warn_test: true}' enables it, so tests can
-- produce a `warn` result in run_results.json without disturbing anything else.
{{ config(severity='warn', enabled=var('orc_warn_test', false)) }}
select 1 as failure
