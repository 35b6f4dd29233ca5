"""Issue 30 §3 on the search page: a search by hidden parts of a phone or an e-mail is audited like a reveal for a
person who may reveal; repeated narrowing searches are audited and, past the limit, refused with a sentence."""

from __future__ import annotations

import re


def _records(action: str):
    from lib.ui import session
    return session.audit().records(action=action)


def test_a_search_by_hidden_digits_is_audited_as_a_reveal_and_narrowing_is_limited(app, app_env):
    everyone = app_env.all_payments("all")
    import time
    p = next(x for x in everyone if x.get("buyer_tel") and x["started_at"] > time.time() - 80 * 86400)
    digits = re.sub(r"\D", "", p["buyer_tel"])
    at = app("app_pages/search.py", q=digits[-5:]).run()              # an operator may reveal: found, audited
    assert not at.exception
    assert any("found" in s.value for s in at.success)
    recs = _records("reveal_personal")
    assert len(recs) == 1 and recs.iloc[0]["outcome"] == "revealed" and '"search"' in recs.iloc[0]["detail"]
    assert digits not in recs.iloc[0]["detail"]                        # the audit keeps no number
    for n in range(6, 12):                                             # growing it digit by digit
        at.query_params["q"] = digits[-n:]
        at.run()
    assert any("Too many searches narrowing" in e.value for e in at.error)
    outcomes = list(_records("reveal_personal")["outcome"])
    assert "refused" in outcomes and len(outcomes) == 7
    from lib.ui.present import audit_sentence
    said = {audit_sentence(r) for _i, r in _records("reveal_personal").iterrows()}
    assert said <= {"Searched by hidden digits or letters of a phone number or an e-mail address",
                    "Narrowed a search by a phone number or an e-mail address (shown masked)",   # a whole number
                    "Refused a search: too many searches narrowing a phone number or an e-mail address"}
    assert "Searched by hidden digits or letters of a phone number or an e-mail address" in said
    assert "Refused a search: too many searches narrowing a phone number or an e-mail address" in said
