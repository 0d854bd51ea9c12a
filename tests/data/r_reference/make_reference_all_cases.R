# Reference values for `tace-planner cohort tables --group all`: the committed cohort.csv
# kept whole (one group "all"), computed by R with its defaults.
#
# Run from this folder:   Rscript make_reference_all_cases.R   (writes reference_all_cases.csv)
# Needs base R and the recommended package survival (Debian: r-base-core, r-cran-survival).
# The tests read the committed reference_all_cases.csv; when Rscript is on PATH a test also
# re-runs this script into a temporary file and compares. Output as make_reference.R's:
# key,value; sprintf("%.17g"); NA where R says NA.

library(survival, warn.conflicts = FALSE, quietly = TRUE)

out <- c(commandArgs(trailingOnly = TRUE), "reference_all_cases.csv")[1]
reference <- character(0)  # key -> value text, in the order written
put <- function(key, value) {
  reference[[key]] <<- if (is.character(value)) value else
    ifelse(is.na(value), "NA", sprintf("%.17g", value))
}

put("R.version.string", R.version.string)
put("survival.version", as.character(packageVersion("survival")))
put("md5.cohort.csv", unname(tools::md5sum("cohort.csv")))

co <- read.csv("cohort.csv", stringsAsFactors = FALSE, na.strings = c("", "NA"))
co <- within(co, {
  log_ratio <- log(volume_after_cm3 / volume_before_cm3)
  volume_change_percent <- (volume_after_cm3 - volume_before_cm3) / volume_before_cm3 * 100
  computed <- ifelse(log_ratio == 0, NA, interval_days * log(2) / log_ratio)  # unchanged: none
  doubling_time_days <- ifelse(is.na(doubling_time_days), computed, doubling_time_days)
  sgr_percent_per_day <- 100 * log_ratio / interval_days
})

# every patient in one group, whatever its `group` cell: nothing to compare, so no test
variables <- c("volume_before_cm3", "volume_after_cm3", "volume_change_percent",
               "ttp_before_cht_days", "ttp_after_tace_days", "interval_days",
               "doubling_time_days", "sgr_percent_per_day")
put("all.n", nrow(co))
for (v in variables) {
  prefix <- sprintf("all.%s", v)
  x <- co[[v]][!is.na(co[[v]])]
  put(paste0(prefix, ".n"), length(x))
  q <- quantile(x, c(0.25, 0.5, 0.75), type = 7, names = FALSE)
  put(paste0(prefix, ".q1"), q[1])
  put(paste0(prefix, ".median"), q[2])
  put(paste0(prefix, ".q3"), q[3])
  put(paste0(prefix, ".shapiro_p"), shapiro.test(x)$p.value)
}

fit <- survfit(Surv(ttp_after_tace_days, progression_event) ~ 1, data = co)
q <- quantile(fit, 0.5)
put("all.km.median", unname(q$quantile))
put("all.km.lower", unname(q$lower))
put("all.km.upper", unname(q$upper))
put("all.km.n", fit$n)
put("all.km.events", sum(fit$n.event))

for (cat in c("tace_immediately", "primary")) {
  counts <- table(co[[cat]])
  for (level in names(counts)) {
    put(sprintf("all.counts.%s.%s", cat, level), unname(counts[level]))
    put(sprintf("all.counts.%s.%s.percent", cat, level),
        100 * unname(counts[level]) / sum(counts))
  }
}

full <- !is.na(co$doubling_time_days) & !is.na(co$volume_change_percent)
fit_lm <- summary(lm(co$doubling_time_days[full] ~ co$volume_change_percent[full]))
put("all.regression.n", sum(full))
put("all.regression.r2", fit_lm$r.squared)

write.csv(data.frame(key = names(reference), value = unname(reference)), out,
          row.names = FALSE)
