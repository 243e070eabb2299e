"""The compatibility matrix against the real dbt-orchestra 1.5.0 (issue #32, item 3): twin
copies of the tutorial, the same steps run by the reference on one and by orc on the other,
over the configuration matrix, compared after every step. See runner.py, compare.py."""
