# Reference values for tace_planner.domain.statistics / survival / growth and the
# `tace-planner cohort tables` command, computed by R with its defaults.
#
# Run from this folder:   Rscript make_reference.R   (writes reference.csv)
# Needs base R and the recommended package survival only (Debian: r-base-core,
# r-cran-survival). The tests read the committed reference.csv; when Rscript is on
# PATH a test also re-runs this script into a temporary file and compares.
#
# Output: CSV with columns key,value; numbers printed with sprintf("%.17g") so that
# they round-trip to the same double; NA where R says NA.

suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = TRUE)
out_file <- if (length(args) >= 1) args[1] else "reference.csv"

keys <- character(0)
values <- character(0)
put <- function(key, value) {
  text <- if (is.character(value)) value
          else if (is.na(value)) "NA"
          else sprintf("%.17g", value)
  keys <<- c(keys, key)
  values <<- c(values, text)
}

put("R.version.string", R.version.string)
put("survival.version", as.character(packageVersion("survival")))
# Digests of the inputs, so that a test without R notices a fixture out of date.
for (f in c("samples.csv", "regression.csv", "tables.csv", "survival.csv", "cohort.csv")) {
  put(paste0("md5.", f), unname(tools::md5sum(f)))
}

# --- samples: quantiles, Mann-Whitney, Kruskal-Wallis, Shapiro-Wilk -------------
samples <- read.csv("samples.csv", stringsAsFactors = FALSE)
for (ds in unique(samples$dataset)) {
  part <- samples[samples$dataset == ds, ]
  for (g in sort(unique(part$group))) {
    v <- part$value[part$group == g]
    q <- quantile(v, c(0.25, 0.5, 0.75), type = 7, names = FALSE)
    put(sprintf("quantile.%s.%s.n", ds, g), length(v))
    put(sprintf("quantile.%s.%s.q1", ds, g), q[1])
    put(sprintf("quantile.%s.%s.median", ds, g), q[2])
    put(sprintf("quantile.%s.%s.q3", ds, g), q[3])
  }
}
for (ds in c("mw_exact", "mw_ties", "mw_large", "mw_b49", "mw_b50")) {
  part <- samples[samples$dataset == ds, ]
  res <- suppressWarnings(wilcox.test(part$value[part$group == "A"],
                                      part$value[part$group == "B"]))
  put(sprintf("wilcox.%s.W", ds), unname(res$statistic))
  put(sprintf("wilcox.%s.p", ds), res$p.value)
  put(sprintf("wilcox.%s.method", ds), res$method)
}
kw <- samples[samples$dataset == "kw3", ]
res <- kruskal.test(value ~ factor(group), data = kw)
put("kruskal.kw3.H", unname(res$statistic))
put("kruskal.kw3.df", unname(res$parameter))
put("kruskal.kw3.p", res$p.value)
for (ds in c("sw_normal", "sw_skewed", "sw_three", "sw_sixty")) {
  res <- shapiro.test(samples$value[samples$dataset == ds])
  put(sprintf("shapiro.%s.W", ds), unname(res$statistic))
  put(sprintf("shapiro.%s.p", ds), res$p.value)
}

# --- regression ----------------------------------------------------------------
reg <- read.csv("regression.csv", stringsAsFactors = FALSE)
put_lm <- function(prefix, x, y) {
  fit <- summary(lm(y ~ x))
  put(paste0(prefix, ".n"), length(x))
  put(paste0(prefix, ".slope"), fit$coefficients["x", "Estimate"])
  put(paste0(prefix, ".intercept"), fit$coefficients["(Intercept)", "Estimate"])
  put(paste0(prefix, ".r2"), fit$r.squared)
  put(paste0(prefix, ".p"), fit$coefficients["x", "Pr(>|t|)"])
}
for (ds in unique(reg$dataset)) {
  part <- reg[reg$dataset == ds, ]
  put_lm(sprintf("lm.%s", ds), part$x, part$y)
}

# --- contingency tables ----------------------------------------------------------
tab <- read.csv("tables.csv", stringsAsFactors = FALSE)
for (ds in unique(tab$dataset)) {
  part <- tab[tab$dataset == ds, ]
  m <- matrix(0, max(part$row), max(part$col))
  m[cbind(part$row, part$col)] <- part$count
  if (min(dim(m)) == 2) put(sprintf("fisher.%s.p", ds), fisher.test(m)$p.value)
  res <- suppressWarnings(chisq.test(m))
  put(sprintf("chisq.%s.X2", ds), unname(res$statistic))
  put(sprintf("chisq.%s.df", ds), unname(res$parameter))
  put(sprintf("chisq.%s.p", ds), res$p.value)
}

# --- survival ------------------------------------------------------------------
put_km <- function(prefix, fit, curve = TRUE) {
  q <- quantile(fit, 0.5)
  put(paste0(prefix, ".median"), unname(q$quantile))
  put(paste0(prefix, ".lower"), unname(q$lower))
  put(paste0(prefix, ".upper"), unname(q$upper))
  put(paste0(prefix, ".table_median"), unname(summary(fit)$table["median"]))
  if (!curve) return(invisible())
  put(paste0(prefix, ".points"), length(fit$time))
  for (i in seq_along(fit$time)) {
    p <- sprintf("%s.%d", prefix, i)
    put(paste0(p, ".time"), fit$time[i])
    put(paste0(p, ".n.risk"), fit$n.risk[i])
    put(paste0(p, ".n.event"), fit$n.event[i])
    put(paste0(p, ".surv"), fit$surv[i])
    put(paste0(p, ".std.err"), fit$std.err[i])
    put(paste0(p, ".lower"), fit$lower[i])
    put(paste0(p, ".upper"), fit$upper[i])
  }
}
put_logrank <- function(prefix, diff) {
  df <- length(diff$n) - 1
  put(paste0(prefix, ".chisq"), diff$chisq)
  put(paste0(prefix, ".df"), df)
  put(paste0(prefix, ".p"), pchisq(diff$chisq, df, lower.tail = FALSE))
}
surv_data <- read.csv("survival.csv", stringsAsFactors = FALSE)
for (ds in c("km_plateau", "km_censored", "km_plateau_censor", "km_many", "km_no_median",
            "km_ties_zero")) {
  part <- surv_data[surv_data$dataset == ds, ]
  put_km(sprintf("km.%s", ds), survfit(Surv(time, event) ~ 1, data = part))
}
for (ds in c("lr_two", "lr_three")) {
  part <- surv_data[surv_data$dataset == ds, ]
  put_logrank(sprintf("logrank.%s", ds), survdiff(Surv(time, event) ~ group, data = part))
}

# --- the cohort table (what `tace-planner cohort tables --from-csv` computes) ------
co <- read.csv("cohort.csv", stringsAsFactors = FALSE, na.strings = c("", "NA"))
ratio <- co$volume_after_cm3 / co$volume_before_cm3
co$volume_change_percent <- (co$volume_after_cm3 - co$volume_before_cm3) /
  co$volume_before_cm3 * 100
dt <- co$interval_days * log(2) / log(ratio)
dt[!is.finite(dt)] <- NA
co$doubling_time_days <- ifelse(is.na(co$doubling_time_days), dt, co$doubling_time_days)
co$sgr_percent_per_day <- 100 * log(ratio) / co$interval_days
for (i in seq_len(nrow(co))) {
  put(sprintf("cohort.row.%s.doubling_time_days", co$patient[i]), co$doubling_time_days[i])
  put(sprintf("cohort.row.%s.sgr_percent_per_day", co$patient[i]), co$sgr_percent_per_day[i])
}
variables <- c("volume_before_cm3", "volume_after_cm3", "volume_change_percent",
               "ttp_before_cht_days", "ttp_after_tace_days", "interval_days",
               "doubling_time_days", "sgr_percent_per_day")
for (by in c("group", "tace_immediately", "primary")) {
  levels <- sort(unique(co[[by]]))
  for (v in variables) {
    prefix <- sprintf("cohort.%s.%s", by, v)
    keep <- !is.na(co[[v]])
    for (g in levels) {
      x <- co[[v]][keep & co[[by]] == g]
      put(sprintf("%s.%s.n", prefix, g), length(x))
      if (length(x) > 0) {
        q <- quantile(x, c(0.25, 0.5, 0.75), type = 7, names = FALSE)
        put(sprintf("%s.%s.q1", prefix, g), q[1])
        put(sprintf("%s.%s.median", prefix, g), q[2])
        put(sprintf("%s.%s.q3", prefix, g), q[3])
      }
      if (length(x) >= 3 && length(unique(x)) > 1) {
        put(sprintf("%s.%s.shapiro_p", prefix, g), shapiro.test(x)$p.value)
      }
    }
    present <- levels[sapply(levels, function(g) any(keep & co[[by]] == g))]
    if (length(present) < 2) next  # nothing to compare
    if (length(present) == 2) {
      res <- suppressWarnings(wilcox.test(co[[v]][keep & co[[by]] == present[1]],
                                          co[[v]][keep & co[[by]] == present[2]]))
    } else {
      res <- kruskal.test(co[[v]][keep], factor(co[[by]][keep]))
    }
    put(paste0(prefix, ".statistic"), unname(res$statistic))
    put(paste0(prefix, ".p"), res$p.value)
  }
  for (g in levels) {
    part <- co[co[[by]] == g, ]
    put_km(sprintf("cohort.%s.km.%s", by, g),
           survfit(Surv(ttp_after_tace_days, progression_event) ~ 1, data = part),
           curve = FALSE)
  }
  put_logrank(sprintf("cohort.%s.logrank", by),
              survdiff(Surv(ttp_after_tace_days, progression_event) ~ co[[by]], data = co))
  for (cat in setdiff(c("tace_immediately", "primary"), by)) {
    counts <- table(co[[by]], co[[cat]])
    prefix <- sprintf("cohort.%s.counts.%s", by, cat)
    if (min(dim(counts)) == 2) {  # 2 x k or k x 2: exact
      put(paste0(prefix, ".p"), fisher.test(counts)$p.value)
    } else {
      res <- suppressWarnings(chisq.test(counts))
      put(paste0(prefix, ".statistic"), unname(res$statistic))
      put(paste0(prefix, ".p"), res$p.value)
    }
  }
}
full <- !is.na(co$doubling_time_days) & !is.na(co$volume_change_percent)
put_lm("cohort.regression", co$volume_change_percent[full], co$doubling_time_days[full])

write.csv(data.frame(key = keys, value = values), out_file, row.names = FALSE)
