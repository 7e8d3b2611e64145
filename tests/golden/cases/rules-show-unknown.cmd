rules show no.such.rule
