package hostile

// This file holds the classes of a third audit: operator mistakes and
// result files that the second program of a pipeline reads. Each failed on
// the code before its fix (as its comment says).

// operatorCases are the refusals of the third audit; TestCorpus runs them
// with the others.
func operatorCases() []hostileCase {
	return []hostileCase{
		// A raw panic (index out of range), exit status 1.
		{name: "report_html_empty_list", prog: "report", want: `-html ",": want a folder of result files or a comma-separated list of them`,
			setup: func(w *work) []string { return args("-html", ",") }},
	}
}
