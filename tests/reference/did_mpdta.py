"""Published R ``did`` results on ``mpdta`` (see README.md in this folder for the sources).

Numbers only; nothing here was computed by this project.
"""

# (1) att_gt(yname="lemp", tname="year", idname="countyreal", gname="first.treat", data=mpdta,
#     control_group="nevertreated", bstrap=FALSE, cband=FALSE)   [R 4.5.2, did 2.3.0]
#     Source: StatsPAI tests/reference_parity/test_aggte_r_parity.py (R_ATT_GT, R_AGGTE).
NO_COVARIATES_ATT_GT = {
    (2004, 2004): -0.01050325,
    (2004, 2005): -0.07042316,
    (2004, 2006): -0.13725874,
    (2004, 2007): -0.10081136,
    (2006, 2004): 0.00652011,
    (2006, 2005): -0.00275082,
    (2006, 2006): -0.00459461,
    (2006, 2007): -0.04122447,
    (2007, 2004): 0.03050666,
    (2007, 2005): -0.00272589,
    (2007, 2006): -0.03108712,
    (2007, 2007): -0.02605441,
}
#: aggte(a, type=<kind>, bstrap=FALSE, cband=FALSE): (overall estimate, analytic standard error)
NO_COVARIATES_AGGTE = {
    "simple": (-0.0399512752, 0.0120340128),
    "group": (-0.0310182822, 0.0124460593),
    "calendar": (-0.0417004321, 0.0159718519),
    "dynamic": (-0.0772398215, 0.0199649891),
}
# (2) did README / vignette, summary(out) for xformla=~1: "P-value for pre-test of parallel trends assumption: 0.16812"
NO_COVARIATES_PRETEST_P = 0.16812

# (3) att_gt(..., xformla=~lpop, data=mpdta)  (doubly robust, never treated), printed in the ddml
#     article "Diff-in-Diff with Double/Debiased Machine Learning" (summary(attgt_lm)).
LPOP_DR_ATT_GT = {
    (2004, 2004): -0.0145,
    (2004, 2005): -0.0764,
    (2004, 2006): -0.1404,
    (2004, 2007): -0.1069,
    (2006, 2004): -0.0005,
    (2006, 2005): -0.0062,
    (2006, 2006): 0.0010,
    (2006, 2007): -0.0413,
    (2007, 2004): 0.0267,
    (2007, 2005): -0.0046,
    (2007, 2006): -0.0284,
    (2007, 2007): -0.0288,
}
LPOP_DR_PRETEST_P = 0.23267
#: aggte(attgt_lm, type="dynamic"): event time -> estimate, and the overall ATT
LPOP_DR_DYNAMIC = {-3: 0.0267, -2: -0.0036, -1: -0.0232, 0: -0.0211, 1: -0.0530, 2: -0.1404, 3: -0.1069}
LPOP_DR_DYNAMIC_OVERALL = -0.0804
