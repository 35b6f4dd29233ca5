"""The hostile corpus: values a real merchant's data can carry (buyer names, merchant_uids, product names, notes,
holder names, file cells, deep links). Shared by the unit tests and the browser test."""

# Each value with a marker the browser test looks for as literal text once the page shows it.
MARKUP = [
    "[sign in again](http://evil.example/login)",
    "[x](javascript:alert(1))",
    "![tracker](http://evil.example/i.png)",
    "# URGENT heading",
    "## Approve here",
    ":red[pre-approved by CFO]",
    ":green-background[verified]",
    ":green-badge[verified]",
    "**bold claim** and _emphasis_ and ~~struck~~",
    "<script>window.__pwned=1</script>",
    "<img src=x onerror=\"window.__pwned=1\">",
    "<a href='http://evil.example'>click</a>",
    "first line\n# second line heading",
    "\u202eRTL override gnp.exe",
    "홍길동\u200b verified",
    "http://evil.example/autolink",
    "www.evil.example",
    "call@evil.example",
    ":material/warning: icon",
    "$x^2$ latex",
    "| a | b |\n|---|---|\n| c | d |",
    "> quoted approval",
    "- list item",
    "1. ordered item",
    "`code span`",
    "\\*escaped\\* backslash",
    "[ref]: http://evil.example",
    "Your session expired: [sign in again](http://evil.example/login) — **call 02-000-0000**",
]
LONG = "가" * 10_000
FORMULAS = ['=HYPERLINK("http://evil","x")', "+1+1", "-1+2", "@SUM(A1:A2)", "\t=1", "\r=1"]

# Markup that, rendered, would be a link, an image, a heading, emphasis, code, a list, a quote or HTML.
DANGEROUS_TAGS = ("<a ", "<img", "<h1", "<h2", "<h3", "<h4", "<h5", "<h6", "<em>", "<strong>", "<code>", "<s>",
                  "<del>", "<script", "<table", "<ul>", "<ol>", "<blockquote", "<hr")
