"""Person ranking as it was written before LineRanker (controlroom.domain.person_ranking
at commit a979a1e): `word_against_part`, `name_match` and `score_person`, copied
unchanged but for the caching. The straightforward way, kept as the tests' yardstick:
the ranking a search makes must be exactly this one's, score, rank, reasons and all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from rapidfuzz import fuzz

from controlroom.domain.person_ranking import (
    CLOSENESS_WEIGHT,
    DATE_FACT_WEIGHT,
    EXACT,
    EXACT_DATE_WEIGHT,
    FAMILY,
    FAMILY_CLOSENESS,
    FORENAME_FIRST_BONUS,
    FUZZY_THRESHOLD,
    NEAR,
    PHONETIC_MIN_RATIO,
    SOUNDS_ALIKE,
    START,
    SURNAME_LAST_BONUS,
    KnownName,
    NameMatch,
    PersonFit,
    QueryWord,
    Rank,
    address_fit,
    date_bonus,
    date_confirmed,
    date_fit,
    family_normals,
    word_reasons,
)
from controlroom.domain.phonetics import PersonQuery, name_parts, phonetic_keys
from controlroom.domain.slips import slips_allowed, slips_apart, within_slips


def _slip_closeness(typed: str, name: str) -> float:
    return max(0.0, 1 - slips_apart(typed, name) / max(len(typed), len(name), 1))


def word_against_part(word: QueryWord, token: str) -> tuple[Rank, float, str, int]:
    """(rank, closeness 0-1, how, slips) of one query word against one name part: the
    same few thousand parts come up search after search, so each pair is worked out
    once. `how` is EXACT, FAMILY (another spelling of the same name), SOUNDS_ALIKE (the
    same key: PHONETIC with no more slips from the name than it may carry, FUZZY with
    more), NEAR (close, or within the slips the name may carry, itself or a spelling of
    its family), START (the word starts it) or "" (no fit); `slips`, for a NEAR fit, how
    many slips apart they are (0 for the others). Closeness is by letters in common (at
    least FAMILY_CLOSENESS for a spelling of the family), and by slips for a NEAR fit and
    a FUZZY one that sounds alike: two letters swapped are one slip ("luasc" is nearer
    Luacs than Lucas), where letters in common count a swap as two changes."""
    close = fuzz.ratio(word.normal, token) / 100 if word.normal else 0.0
    if word.normal and word.normal == token:
        return Rank.EXACT, close, EXACT, 0
    if token in word.family:
        # Another spelling of the same name is the name said another way: never less
        # close than FAMILY_CLOSENESS ("billy" and William share few letters).
        return Rank.PHONETIC, max(close, FAMILY_CLOSENESS), FAMILY, 0
    sounds = bool(word.keys & frozenset(phonetic_keys(token))) and close * 100 >= PHONETIC_MIN_RATIO
    if sounds and slips_apart(word.normal, token) <= slips_allowed(token):
        return Rank.PHONETIC, close, SOUNDS_ALIKE, 0
    if word.prefix and token.startswith(word.prefix):
        return Rank.FUZZY, close, START, 0
    if not word.normal:
        return Rank.NONE, close, "", 0
    near = [other for other in (token, *family_normals(token)) if within_slips(word.normal, other)]
    if sounds and not near:
        # The same key, but more slips from the name than it may carry ("bukre" and
        # Baker, two; Burke is one): no better than a near spelling, and as close as
        # its slips, so the name one slip away comes first.
        return Rank.FUZZY, _slip_closeness(word.normal, token), SOUNDS_ALIKE, 0
    if near or close * 100 >= FUZZY_THRESHOLD:
        apart = min(slips_apart(word.normal, other) for other in (near or [token]))
        return Rank.FUZZY, _slip_closeness(word.normal, token), NEAR, apart
    return Rank.NONE, close, "", 0


def name_match(words: list[QueryWord], forename: str | None, surname: str) -> NameMatch:
    """How `words` match the name (`forename`, `surname`): each word against the name's
    best part for it; the name ranks as its worst-matched word."""
    fore_parts, sur_parts = name_parts(forename or ""), name_parts(surname)
    # part -> (its side for the order bonus, the side a hit's reasons name)
    side_of: dict[str, tuple[str, str]] = {}
    for part in fore_parts:
        side_of.setdefault(part, ("forename", "forename"))
    for part in sur_parts:
        side_of.setdefault(part, ("surname", "surname"))
    for whole, named in (("".join(fore_parts), "forename"), ("".join(sur_parts), "surname")):
        if whole:
            side_of.setdefault(whole, ("surname", named))
    typed_names = ((forename or "").casefold(), surname.casefold())
    rank, closeness, sides = Rank.EXACT, 0.0, []
    fits: list[tuple[str, str]] = []
    most_slips = total_apart = 0
    in_reach = True
    fitted: set[str] = set()
    for word in words:
        best_rank, best_close, best_side, best_how, best_slips = Rank.NONE, 0.0, None, "", 0
        best_token = ""
        named = "name"
        for token, (side, reason_side) in side_of.items():
            found, close, how, apart = word_against_part(word, token)
            if (found, close) > (best_rank, best_close):
                best_rank, best_close, best_side, best_how = found, close, side, how
                named, best_slips, best_token = reason_side, apart, token
        if (
            best_rank is Rank.NONE
            and word.typed
            and any(n.startswith(word.typed) for n in typed_names)
        ):
            # Not a name ("o'n", "smi%"), but the characters typed start the name.
            best_rank, best_close, best_how = Rank.FUZZY, 0.5, START
        rank = min(rank, best_rank)
        closeness += best_close
        sides.append(best_side)
        fits.append((named, best_how))
        most_slips = max(most_slips, best_slips)
        fitted.add(best_token)
        if (
            best_rank is Rank.NONE
            or (best_how == NEAR and best_slips > slips_allowed(best_token))
            or (best_how == SOUNDS_ALIKE and best_rank is Rank.FUZZY)
        ):
            in_reach = False
        if best_how == SOUNDS_ALIKE:
            total_apart += slips_apart(word.normal, best_token)
        elif best_how in (NEAR, START):
            total_apart += best_slips if best_how == NEAR else len(best_token) - len(word.normal)
    bonus = SURNAME_LAST_BONUS * (bool(sides) and sides[-1] == "surname")
    if len(sides) > 1 and sides[0] == "forename" and sides[-1] == "surname":
        bonus += FORENAME_FIRST_BONUS
    wholes = {"".join(parts): parts for parts in (fore_parts, sur_parts) if parts}
    covered = fitted | {
        part for whole, parts in wholes.items() if whole in fitted for part in parts
    }
    unmatched = sum(1 for part in (*fore_parts, *sur_parts) if part not in covered)
    return NameMatch(
        rank,
        closeness / max(1, len(words)),
        bonus,
        tuple(fits),
        most_slips,
        total_apart,
        unmatched,
        in_reach,
    )


def score_person(
    query: PersonQuery,
    words: list[QueryWord],
    names: Iterable[KnownName],
    date_of_birth: date | None,
    *,
    match=name_match,
) -> PersonFit | None:
    """How a person fits the line (score, rank, reasons), or None when a word matches
    none of their names at all. Without a date of birth on the line the score's integer
    part is the rank; a date the person's confirms adds DATE_FACT_WEIGHT. Closeness,
    order and the date's exactness order hits within it. `match` is `name_match` or a
    caching wrapper of it.

    With no name words (a date, a postcode), the person ranks exact when born on a date
    asked (or when none was asked), fuzzy otherwise (the mirrored day and month)."""
    why: tuple[str, ...] = ()
    closeness, slips, apart, unmatched = 1.0, 0, 0, 0
    same_name, in_reach = False, True
    if words:
        best: tuple[NameMatch, KnownName] | None = None
        for name in names:
            found = match(words, name.forename, name.surname)
            if best is None or (found.rank, found.closeness + found.bonus - name.penalty) > (
                best[0].rank,
                best[0].closeness + best[0].bonus - best[1].penalty,
            ):
                best = (found, name)
        if best is None or best[0].rank is Rank.NONE:
            return None
        found, known = best
        rank = found.rank
        score = rank + CLOSENESS_WEIGHT * found.closeness + found.bonus - known.penalty
        why = word_reasons(found.fits, known.kind)
        closeness, slips = found.closeness, found.slips
        apart, unmatched = found.apart, found.unmatched
        same_name = all(how in (EXACT, FAMILY) for _, how in found.fits)
        in_reach = found.in_reach
    else:
        exact_date = not query.dates_of_birth or date_of_birth in query.dates_of_birth
        rank = Rank.EXACT if exact_date else Rank.FUZZY
        score = float(rank)
    score += date_bonus(query, date_of_birth)
    confirmed = date_confirmed(query, date_of_birth)
    dated = date_fit(query, date_of_birth)
    if confirmed:
        score += DATE_FACT_WEIGHT
        if same_name and dated == "DOB exact":
            score += EXACT_DATE_WEIGHT
    why += ((dated,) if dated else ()) + address_fit(query)
    return PersonFit(
        round(score, 4),
        rank,
        why,
        closeness,
        slips,
        confirmed,
        apart,
        unmatched,
        same_name,
        in_reach,
    )
