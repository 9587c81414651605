"""Query analysis: directives out of the question and into the answer format; entities only from the lexicon and
the corpus's metadata (other names are hints); periods, measures and the operation."""

from __future__ import annotations

import pytest

from rag.query import AnswerFormat, Period, analyze, known_names


@pytest.mark.parametrize("asked, question, fmt", [
    ("What was Apple's revenue in 2022? Answer in USD billions.", "What was Apple's revenue in 2022?",
     AnswerFormat(scale=1e9, currency="USD")),
    ("Round your answer to two decimal places. What is the change in Other in 2019 from 2018?",
     "What is the change in Other in 2019 from 2018?", AnswerFormat(decimals=2)),
    ("What is the growth rate of revenue in 2019, rounded to the nearest whole number?",
     "What is the growth rate of revenue in 2019?", AnswerFormat(decimals=0)),
    ("Give a response by relying on the details shown in the cash flow statement. What is the FY2019 capex?",
     "What is the FY2019 capex?", AnswerFormat(statement="cash_flow")),
    ("Assume you are an equity analyst. What was the gross margin in 2022? Answer in percent.",
     "What was the gross margin in 2022?", AnswerFormat(percent=True)),
    ("请用亿元回答：恒瑞医药2024年营业收入是多少？", "恒瑞医药2024年营业收入是多少？", AnswerFormat(scale=1e8, currency="CNY")),
])
def test_directives_leave_the_question_and_set_the_format(asked: str, question: str, fmt: AnswerFormat) -> None:
    a = analyze(asked)
    assert (a.question, a.format) == (question, fmt)
    assert a.asked == asked and a.directives


@pytest.mark.parametrize("asked", [
    "What was Apple's revenue in 2022? Answer in USD billions.",
    "Calculate the change in revenue from 2021 to 2022. Round your answer to two decimal places.",
    "If revenue grew, what was it in 2022? Base your answer on the income statement.",
    "Here is a question: what was revenue in 2022?",
])
def test_instruction_words_are_never_names(asked: str) -> None:
    a = analyze(asked)
    assert not {"Answer", "Round", "Calculate", "Base", "If", "Here", "USD"} & set(a.named)


def test_a_company_the_lexicon_knows_is_an_entity_even_as_the_first_word() -> None:
    a = analyze("Akeso revenue in 2025?")
    assert (a.entities, a.years, a.measures, a.operation) == (("Akeso",), ("2025",), ("revenue",), "lookup")


def test_companies_of_the_corpus_are_entities_other_names_are_hints() -> None:
    known = known_names(["Apple Inc.", "McDonald’s Corporation"], ["AAPL", "MCD"])
    a = analyze("What was Apple's net income in 2022 compared with Microsoft?", known=known)
    assert (a.entities, a.hints) == (("Apple",), ("Microsoft",))
    assert analyze("AAPL capex in 2022?", known=known).entities == ("AAPL",)
    assert analyze("What was Apple's net income in 2022?").hints == ("Apple",)  # unknown: a hint, never a gate
    assert analyze("What is the New-Co model?").hints == ("New-Co",)


@pytest.mark.parametrize("question, periods", [
    ("What was revenue in FY2018?", (Period(2018),)),
    ("What was revenue in FY18?", (Period(2018),)),
    ("What was revenue in Q2 2024?", (Period(2024, 3, 2),)),
    ("What was net income in the second quarter of 2023?", (Period(2023, 3, 2),)),
    ("What was revenue for the six months ended June 30, 2025?", (Period(2025, 6, 1),)),
    ("2025年上半年营业收入是多少？", (Period(2025, 6, 1),)),
    ("2025年前三季度营业收入是多少？", (Period(2025, 9, 0),)),
    ("What was the change in sales from 2018 to 2019?", (Period(2018), Period(2019))),
    # a quarter written by its end date: which quarter, the date says
    ("What was Salesforce's net income for the quarter ended April 30, 2023?", (Period(2023, 3, 0),)),
    ("What were capital expenditures in the three months ended April 30, 2023?", (Period(2023, 3, 0),)),
    # a year followed by a comma or a full stop is a year
    ("What was the interest coverage in fiscal 2023, measured as operating income over interest expense?",
     (Period(2023),)),
    ("Give the revenue of fiscal 2023.", (Period(2023),)),
])
def test_periods_are_parsed_once(question: str, periods: tuple[Period, ...]) -> None:
    assert analyze(question).periods == periods


@pytest.mark.parametrize("question, operation", [
    ("What is the change in Other in 2019 from 2018?", "change"),
    ("What is the percentage change in Other in 2019 from 2018?", "growth"),
    ("What is the average UK for 2019 and 2018?", "average"),
    ("In which year was total sales larger?", "compare"),
    ("What is the 3-year CAGR of revenue?", "cagr"),
    ("Which ETFs are mentioned?", "list"),
    ("What is the New-Co model?", "define"),
    ("Why did gross margin decline?", "explain"),
    ("What was the change in Weighted average grant date stock price from 2017 to 2018?", "change"),
    ("What are the main catalysts?", "summarize"),
    ("What was Apple's revenue in 2022?", "lookup"),
    ("What does Oracle cite as the main reason its total revenues increased in fiscal 2023?", "explain"),
])
def test_the_operation_comes_from_the_cues(question: str, operation: str) -> None:
    assert analyze(question).operation == operation


@pytest.mark.parametrize("question, measures", [
    ("What was net income attributable to shareholders in 2022?", ("net_income",)),
    ("Purchases of property, plant and equipment in 2022?", ("capex",)),
    ("What were total revenues and cost of sales in 2018?", ("revenue", "cost_of_revenue")),
    ("归母净利润是多少？", ("net_income",)),
    # a long line-item name in other words stands for the short name it holds ("cash")
    ("How much cash did Apple generate from operating activities in fiscal 2022?", ("operating_cash_flow",)),
    ("How much cash did Intel generate from operations in 2022?", ("operating_cash_flow",)),
    ("What was Intel's cash balance at the end of 2022?", ("cash",)),
    # ... but not words scattered over the question ("share", "net income", "per")
    ("What share of net income was paid out as dividends (dividends paid per the cash flow statement divided by "
     "net income)?", ("dividends", "net_income")),
])
def test_measures_come_from_the_lexicon(question: str, measures: tuple[str, ...]) -> None:
    assert analyze(question).measures == measures
