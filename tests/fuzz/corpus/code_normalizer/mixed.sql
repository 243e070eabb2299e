select 1 -- c
/* x */ {{ var('a') }} {{ env_var("B", 'x') }} $tag$ y $tag$ 'it''s' "q" `b` {# j #} now()