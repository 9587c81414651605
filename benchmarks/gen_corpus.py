"""Generate a synthetic, sector-news-like corpus (English and Chinese Markdown) plus questions with known answers.

Run: .venv/bin/python benchmarks/gen_corpus.py OUT_DIR --chunks 10000 [--seed 7]
     .venv/bin/python benchmarks/gen_corpus.py OUT_DIR --docs 1000 --chunks 10000000 --seed 8   (by document count)

Writes OUT_DIR/docs/*.md (YAML front matter: title, date, source, doc_type, company, tickers, language) and
OUT_DIR/questions.jsonl (question, expected figure as written in the source, the file that states it). Everything
is derived from --seed: the same seed and size give the same files. About a third of the documents are Chinese.
Kinds: deal news (one license deal each), annual/interim results filings (long, with sections and a table),
weekly deal round-ups and sector commentary. Company figures (revenue, R&D spend, profit) are drawn once per
company and year, so every document that states one agrees with the others.

The size is given in chunks of the ingest chunker (200 tokens, 40 overlap): documents are added until an
estimate of their chunk count (calibrated on the real chunker, see CHARS_PER_CHUNK) reaches --chunks. Keep
generated corpora outside the repository (e.g. /work/bench/corpus-10k).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

# Characters of body text per chunk, measured with the real chunker (USE tokenizer, 200 tokens, 40 overlap).
CHARS_PER_CHUNK = {"en": 418.0, "zh": 139.0}

COMPANIES = [
    # English name, short name, Chinese name, ticker
    ("Jiangsu Hengrui Pharmaceuticals", "Hengrui", "恒瑞医药", "600276.SH"),
    ("BeiGene", "BeiGene", "百济神州", "6160.HK"),
    ("Innovent Biologics", "Innovent", "信达生物", "1801.HK"),
    ("Akeso", "Akeso", "康方生物", "9926.HK"),
    ("Hansoh Pharmaceutical", "Hansoh", "翰森制药", "3692.HK"),
    ("Sichuan Kelun-Biotech", "Kelun-Biotech", "科伦博泰", "6990.HK"),
    ("Zai Lab", "Zai Lab", "再鼎医药", "9688.HK"),
    ("Legend Biotech", "Legend", "传奇生物", "LEGN"),
    ("Sino Biopharmaceutical", "Sino Biopharm", "中国生物制药", "1177.HK"),
    ("CSPC Pharmaceutical", "CSPC", "石药集团", "1093.HK"),
    ("Junshi Biosciences", "Junshi", "君实生物", "1877.HK"),
    ("Hutchmed", "Hutchmed", "和黄医药", "0013.HK"),
    ("Remegen", "RemeGen", "荣昌生物", "9995.HK"),
    ("Duality Biotherapeutics", "DualityBio", "映恩生物", "9606.HK"),
    ("3SBio", "3SBio", "三生制药", "1530.HK"),
    ("Simcere Pharmaceutical", "Simcere", "先声药业", "2096.HK"),
    ("Ascentage Pharma", "Ascentage", "亚盛医药", "6855.HK"),
    ("InnoCare Pharma", "InnoCare", "诺诚健华", "9969.HK"),
    ("Hengrui's Luzhu Biotech", "Luzhu", "绿竹生物", "2480.HK"),
    ("Biocytogen", "Biocytogen", "百奥赛图", "2315.HK"),
    ("Kintor Pharmaceutical", "Kintor", "开拓药业", "9939.HK"),
    ("Harbour BioMed", "Harbour BioMed", "和铂医药", "2142.HK"),
    ("Allist Pharmaceuticals", "Allist", "艾力斯", "688578.SH"),
    ("Betta Pharmaceuticals", "Betta", "贝达药业", "300558.SZ"),
    ("Zelgen Biopharmaceuticals", "Zelgen", "泽璟制药", "688266.SH"),
    ("Shanghai Henlius Biotech", "Henlius", "复宏汉霖", "2696.HK"),
    ("CStone Pharmaceuticals", "CStone", "基石药业", "2616.HK"),
    ("Everest Medicines", "Everest", "云顶新耀", "1952.HK"),
    ("Hengrui Ruikang", "Ruikang", "瑞康医药", "002589.SZ"),
    ("Keymed Biosciences", "Keymed", "康诺亚", "2162.HK"),
]

BIG_PHARMA = [
    ("Merck", "默沙东"), ("Pfizer", "辉瑞"), ("AstraZeneca", "阿斯利康"), ("Novartis", "诺华"),
    ("GSK", "葛兰素史克"), ("Sanofi", "赛诺菲"), ("Roche", "罗氏"), ("Bristol Myers Squibb", "百时美施贵宝"),
    ("AbbVie", "艾伯维"), ("Takeda", "武田制药"), ("Ipsen", "益普生"), ("Boehringer Ingelheim", "勃林格殷格翰"),
    ("Eli Lilly", "礼来"), ("Novo Nordisk", "诺和诺德"), ("Johnson & Johnson", "强生"), ("Bayer", "拜耳"),
    ("Astellas", "安斯泰来"), ("Daiichi Sankyo", "第一三共"), ("Biogen", "渤健"), ("Gilead", "吉利德"),
]
_BIOTECH_A = ["Summit", "Avenzo", "Verdant", "Northwind", "Crescent", "Harbor", "Bluefin", "Cedar", "Granite",
              "Orchid", "Polaris", "Redwood", "Sierra", "Tidal", "Aurora", "Beacon", "Catalyst", "Delta", "Ember",
              "Falcon", "Horizon", "Iris", "Juniper", "Kestrel", "Lumen", "Meridian", "Nova", "Onyx", "Pinnacle",
              "Quartz", "Radiant", "Solstice", "Trident", "Umbra", "Vantage", "Willow", "Xenith", "Yarrow", "Zenith"]
_BIOTECH_B = ["Therapeutics", "Bio", "Pharma", "Oncology", "Biosciences", "Medicines", "Immunology"]

TARGETS = ["PD-1/VEGF", "CLDN18.2", "TROP2", "HER2", "B7-H3", "GLP-1/GIP", "KRAS G12D", "BCMA/CD3", "TSLP",
           "IL-4Rα", "CD19", "FcRn", "EGFR/c-Met", "Nectin-4", "GPRC5D", "Lp(a)", "PCSK9", "DLL3", "CDH17", "MUC16"]
MODALITIES = [("bispecific antibody", "双特异性抗体"), ("antibody-drug conjugate", "抗体偶联药物(ADC)"),
              ("small-molecule inhibitor", "小分子抑制剂"), ("CAR-T cell therapy", "CAR-T细胞疗法"),
              ("siRNA therapy", "siRNA疗法"), ("monoclonal antibody", "单克隆抗体")]
INDICATIONS = [("non-small cell lung cancer", "非小细胞肺癌"), ("gastric cancer", "胃癌"),
               ("breast cancer", "乳腺癌"), ("obesity", "肥胖症"), ("multiple myeloma", "多发性骨髓瘤"),
               ("atopic dermatitis", "特应性皮炎"), ("myasthenia gravis", "重症肌无力"),
               ("colorectal cancer", "结直肠癌"), ("small cell lung cancer", "小细胞肺癌"),
               ("hypercholesterolaemia", "高胆固醇血症")]
PUBLISHERS_EN = ["Sina Finance", "Caixin Global", "BioCentury China", "Endpoints News", "Fierce Biotech",
                 "Yicai Global", "South China Morning Post", "PharmaCube", "Jiemian News"]
PUBLISHERS_ZH = ["新浪财经", "第一财经", "医药魔方", "财新网", "界面新闻", "证券时报", "经济观察报", "21世纪经济报道"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]
YEARS = (2022, 2023, 2024, 2025)


@dataclass(frozen=True)
class Deal:
    company: int
    partner_en: str
    partner_zh: str
    date: dt.date
    target: str
    modality: int
    indication: int
    upfront_m: int  # US$ million
    milestones_m: int
    royalty_lo: int
    royalty_hi: int
    code: str


def usd_en(m: float) -> str:
    """$245 million / $1.77 billion, as sector news writes them."""
    if m >= 1000:
        b = m / 1000
        return f"${b:.2f}".rstrip("0").rstrip(".") + " billion"
    return f"${m:,.0f} million"


def usd_zh(m: float) -> str:
    """2.45亿美元 / 8500万美元."""
    if m >= 100:
        return f"{m / 100:.2f}".rstrip("0").rstrip(".") + "亿美元"
    return f"{m * 100:.0f}万美元"


def rmb_en(b: float) -> str:
    return f"RMB {b:,.2f} billion"


def rmb_zh(b: float) -> str:
    return f"{b * 10:.2f}".rstrip("0").rstrip(".") + "亿元"


class Generator:
    def __init__(self, seed: int, world_seed: int | None = None) -> None:
        self.rng = random.Random(seed)
        # The "world" (company figures) can come from another seed, so that an extra corpus agrees with a base one.
        rng = self.rng if world_seed is None or world_seed == seed else random.Random(world_seed)
        self.partners = list(BIG_PHARMA) + [
            (f"{a} {b}", f"{a} {b}") for a in _BIOTECH_A for b in _BIOTECH_B
        ]
        # Company financials per year, in RMB billion; one truth shared by every document.
        self.fin: dict[tuple[int, int], dict[str, float]] = {}
        for ci in range(len(COMPANIES)):
            revenue = rng.uniform(0.3, 25.0)
            for y in YEARS:
                growth = rng.uniform(-12.0, 65.0)
                revenue = round(revenue * (1 + growth / 100), 2)
                rd = round(revenue * rng.uniform(0.18, 0.9), 2)
                profit = round(revenue * rng.uniform(-0.6, 0.3), 2)
                self.fin[(ci, y)] = {"revenue": revenue, "growth": round(growth, 2), "rd": rd, "profit": profit,
                                     "cash": round(rng.uniform(2.0, 40.0), 2), "employees": rng.randint(800, 24000),
                                     "pipeline": rng.randint(12, 90)}
        rng = self.rng
        self.deals: list[Deal] = []
        self._deal_keys: set[tuple[int, str, str]] = set()

    # -- building blocks ---------------------------------------------------------------------------------------
    def date(self, year: int | None = None) -> dt.date:
        y = year or self.rng.choice(YEARS[1:])
        return dt.date(y, 1, 1) + dt.timedelta(days=self.rng.randrange(365))

    def new_deal(self) -> Deal:
        rng = self.rng
        while True:
            ci = rng.randrange(len(COMPANIES))
            pen, pzh = rng.choice(self.partners)
            d = self.date()
            key = (ci, pen, f"{d:%Y-%m}")
            if key not in self._deal_keys:
                self._deal_keys.add(key)
                break
        upfront = rng.choice([rng.randint(15, 99), rng.randint(100, 480), rng.randint(100, 1200)])
        deal = Deal(ci, pen, pzh, d, rng.choice(TARGETS), rng.randrange(len(MODALITIES)),
                    rng.randrange(len(INDICATIONS)), upfront, min(upfront * rng.randint(3, 12), rng.randint(2000, 9000)) + rng.randint(0, 99) * 10,
                    rng.randint(5, 10), rng.randint(11, 20),
                    f"{COMPANIES[ci][1][:2].upper()}-{rng.randint(1000, 9999)}")
        self.deals.append(deal)
        return deal

    def filler_en(self, n: int) -> list[str]:
        rng = self.rng
        c = COMPANIES[rng.randrange(len(COMPANIES))]
        pool = [
            f"Analysts at {rng.choice(['CICC', 'Citic Securities', 'Huatai Securities', 'Morgan Stanley', 'Jefferies', 'Goldman Sachs'])} "
            f"said the {rng.choice(TARGETS)} space remains crowded, with at least {rng.randint(4, 30)} Chinese programmes in "
            "clinical development.",
            f"The Hang Seng Biotech Index rose {rng.uniform(0.3, 6.5):.1f}% over the week, while the CSI Innovative Drug "
            f"Index gained {rng.uniform(0.2, 5.0):.1f}%.",
            "Investors have been rotating back into biotech names as interest-rate expectations eased and overseas buyers "
            "returned to the China licensing market.",
            f"{c[1]} shares have {rng.choice(['climbed', 'fallen', 'risen', 'slipped'])} {rng.uniform(2, 80):.1f}% "
            "since the start of the year.",
            "The National Medical Products Administration has shortened review timelines for breakthrough therapies, "
            "and the updated reimbursement list gives newly approved innovative drugs a faster path to hospital use.",
            f"According to {rng.choice(['PharmaCube', 'Wind', 'Pharmcube', 'Citeline'])} data, Chinese companies accounted "
            f"for {rng.randint(18, 42)}% of global in-licensed molecules by deal count in the period.",
            "Management reiterated that overseas clinical validation, rather than the headline deal value, will decide "
            "how much of the milestone money is eventually paid.",
            f"The company expects to file {rng.randint(1, 6)} new investigational new drug applications in the United "
            "States and China over the next twelve months.",
            "Several hospitals in Shanghai and Guangzhou have joined the registrational study, and enrolment is running "
            "ahead of plan according to the investigator.",
            "Competition in the domestic market has pushed prices of PD-1 antibodies down sharply, which is one reason "
            "Chinese developers increasingly look abroad for partners.",
            f"Net cash inflow from licensing reached {usd_en(rng.randint(50, 3000))} across the sector in the quarter, "
            "brokers estimated.",
            "The NewCo structure, in which a Chinese developer takes equity in a US-based vehicle, has become a common "
            "alternative to a straight licence.",
            "Observers cautioned that many milestone payments are tied to late-stage success and may never be received.",
        ]
        return rng.sample(pool, min(n, len(pool)))

    def filler_zh(self, n: int) -> list[str]:
        rng = self.rng
        c = COMPANIES[rng.randrange(len(COMPANIES))]
        pool = [
            f"{rng.choice(['中金公司', '中信证券', '华泰证券', '招商证券', '国泰君安'])}分析师指出，{rng.choice(TARGETS)}赛道竞争激烈，"
            f"目前国内至少有{rng.randint(4, 30)}款同类药物处于临床开发阶段。",
            f"本周恒生生物科技指数上涨{rng.uniform(0.3, 6.5):.1f}%，中证创新药产业指数上涨{rng.uniform(0.2, 5.0):.1f}%。",
            "随着降息预期升温以及海外买家重返中国授权市场，资金正重新流入创新药板块。",
            f"年初至今，{c[2]}股价累计{rng.choice(['上涨', '下跌'])}{rng.uniform(2, 80):.1f}%。",
            "国家药品监督管理局持续优化突破性治疗药物审评流程，新版医保目录也为创新药进入医院提供了更快通道。",
            f"据医药魔方数据，按交易数量计算，中国企业在全球授权引进分子中的占比达到{rng.randint(18, 42)}%。",
            "管理层表示，最终能够收到多少里程碑付款，取决于海外临床验证的结果，而非交易的总金额。",
            f"公司预计未来十二个月内将在中美两地提交{rng.randint(1, 6)}项新药临床试验申请。",
            "上海和广州的多家医院已加入该注册性研究，研究者表示入组进度快于预期。",
            "国内PD-1单抗价格大幅下降，这也是中国药企越来越多寻求海外合作伙伴的原因之一。",
            f"券商估计，本季度行业授权交易带来的现金净流入达到{usd_zh(rng.randint(50, 3000))}。",
            "NewCo模式，即中国药企在美国新设公司中持股的合作方式，已成为直接授权之外的常见选择。",
            "业内人士提醒，许多里程碑付款与后期临床成功挂钩，最终未必能够全部兑现。",
        ]
        return rng.sample(pool, min(n, len(pool)))

    # -- documents ---------------------------------------------------------------------------------------------
    def deal_doc(self, lang: str) -> tuple[dict[str, object], str, Deal]:
        rng = self.rng
        d = self.new_deal()
        en, short, zh, ticker = COMPANIES[d.company]
        mod_en, mod_zh = MODALITIES[d.modality]
        ind_en, ind_zh = INDICATIONS[d.indication]
        when_en = f"{MONTHS_EN[d.date.month - 1]} {d.date.day}, {d.date.year}"
        paras: list[str] = []
        if lang == "en":
            title = f"{short} licenses {d.target} {mod_en} {d.code} to {d.partner_en} for {usd_en(d.upfront_m)} upfront"
            paras.append(
                f"On {when_en}, {short} announced an exclusive license agreement with {d.partner_en} for {d.code}, its "
                f"{d.target} {mod_en}, under which {short} will receive an upfront payment of {usd_en(d.upfront_m)}. "
                f"{short} is also eligible for up to {usd_en(d.milestones_m)} in development, regulatory and commercial "
                f"milestone payments, plus tiered royalties of {d.royalty_lo}% to {d.royalty_hi}% on net sales outside "
                "Greater China.")
            paras.append(
                f"{d.code} is being studied in {ind_en}. {short} keeps the rights in mainland China, Hong Kong, Macau and "
                f"Taiwan, while {d.partner_en} takes responsibility for global development and commercialisation.")
            f = self.fin[(d.company, min(d.date.year - 1, 2025))]
            paras.append(
                f"The deal adds to {short}'s licensing income. In {d.date.year - 1}, {short} reported revenue of "
                f"{rmb_en(f['revenue'])} and spent {rmb_en(f['rd'])} on research and development.")
            sections = ["Market reaction", "Sector context", "What comes next"]
            for s in sections[: rng.randint(1, 3)]:
                paras.append(f"## {s}")
                for _ in range(rng.randint(1, 3)):
                    paras.append(" ".join(self.filler_en(rng.randint(3, 6))))
        else:
            title = f"{zh}将{d.target}{mod_zh}{d.code}授权给{d.partner_zh}，首付款{usd_zh(d.upfront_m)}"
            paras.append(
                f"{d.date.year}年{d.date.month}月{d.date.day}日，{zh}宣布与{d.partner_zh}就其{d.target}{mod_zh}{d.code}"
                f"达成独家许可协议，{zh}将获得{usd_zh(d.upfront_m)}首付款。"
                f"此外，{zh}还有资格获得最高{usd_zh(d.milestones_m)}的开发、注册及商业化里程碑付款，"
                f"以及大中华区以外净销售额{d.royalty_lo}%至{d.royalty_hi}%的阶梯式特许权使用费。")
            paras.append(f"{d.code}目前正在开展{ind_zh}的临床研究。{zh}保留中国大陆、香港、澳门及台湾地区的权益，"
                         f"{d.partner_zh}负责全球其他地区的开发和商业化。")
            f = self.fin[(d.company, min(d.date.year - 1, 2025))]
            paras.append(f"此次交易将增加{zh}的授权收入。{d.date.year - 1}年，{zh}实现营业收入{rmb_zh(f['revenue'])}，"
                         f"研发投入{rmb_zh(f['rd'])}。")
            for s in ["市场反应", "行业背景", "后续展望"][: rng.randint(1, 3)]:
                paras.append(f"## {s}")
                for _ in range(rng.randint(1, 3)):
                    paras.append("".join(self.filler_zh(rng.randint(3, 6))))
        fm = {"title": title, "date": d.date.isoformat(), "company": zh if lang == "zh" else short,
              "tickers": [ticker], "doc_type": "news", "language": lang,
              "source": rng.choice(PUBLISHERS_ZH if lang == "zh" else PUBLISHERS_EN)}
        return fm, "\n\n".join(paras), d

    def filing_doc(self, lang: str, ci: int, year: int, interim: bool) -> tuple[dict[str, object], str]:
        rng = self.rng
        en, short, zh, ticker = COMPANIES[ci]
        f, prev = self.fin[(ci, year)], self.fin.get((ci, year - 1))
        scale = 0.5 if interim else 1.0
        rev, rd, profit = round(f["revenue"] * scale, 2), round(f["rd"] * scale, 2), round(f["profit"] * scale, 2)
        pub = dt.date(year, 8, rng.randint(10, 30)) if interim else dt.date(year + 1, 3, rng.randint(10, 30))
        paras: list[str] = []
        if lang == "en":
            kind = "interim results announcement" if interim else "annual results announcement"
            period = f"the six months ended June 30, {year}" if interim else f"the year ended December 31, {year}"
            title = f"{en} {year} {kind}"
            paras.append(f"# {title}")
            paras.append(f"{en} (Stock code: {ticker}) announces its results for {period}.")
            paras.append("## Financial highlights")
            paras.append(
                f"Revenue for {period} was {rmb_en(rev)}, a year-on-year change of {f['growth']:.2f}%. "
                f"Research and development expenses were {rmb_en(rd)}. "
                f"{'Net profit' if profit >= 0 else 'Net loss'} attributable to shareholders was {rmb_en(abs(profit))}. "
                f"Cash and cash equivalents stood at {rmb_en(f['cash'])} at the end of the period.")
            paras.append("| Item | " + f"{year} (RMB million) | " + f"{year - 1} (RMB million) |")
            paras.append("| --- | --- | --- |")
            for label, key in (("Revenue", "revenue"), ("R&D expenses", "rd"), ("Net profit (loss)", "profit")):
                p = prev[key] * scale if prev else 0.0
                paras.append(f"| {label} | {f[key] * scale * 1000:,.1f} | {p * 1000:,.1f} |")
            paras.append("## Business review")
            for _ in range(rng.randint(2, 5 if interim else 9)):
                deals = [x for x in self.deals if x.company == ci and x.date.year == year][:2]
                text = " ".join(self.filler_en(rng.randint(3, 6)))
                if deals and rng.random() < 0.4:
                    x = deals[0]
                    text += (f" During the period the Group licensed {x.code} to {x.partner_en}, receiving an upfront "
                             f"payment of {usd_en(x.upfront_m)}.")
                paras.append(text)
            paras.append("## Pipeline")
            paras.append(f"The Group has {f['pipeline']} programmes in development and employed {f['employees']:,} people "
                         "at the end of the period.")
            for _ in range(rng.randint(1, 3 if interim else 7)):
                paras.append(" ".join(self.filler_en(rng.randint(3, 6))))
            paras.append("## Outlook")
            paras.append(" ".join(self.filler_en(rng.randint(2, 4))))
        else:
            kind = "半年度业绩公告" if interim else "年度业绩公告"
            period = f"截至{year}年6月30日止六个月" if interim else f"截至{year}年12月31日止年度"
            title = f"{zh}{year}年{kind}"
            paras.append(f"# {title}")
            paras.append(f"{zh}（股份代号：{ticker}）公布{period}的业绩。")
            paras.append("## 财务摘要")
            paras.append(
                f"{period}，公司实现营业收入{rmb_zh(rev)}，同比变动{f['growth']:.2f}%；研发投入{rmb_zh(rd)}；"
                f"归属于股东的{'净利润' if profit >= 0 else '净亏损'}为{rmb_zh(abs(profit))}。"
                f"期末现金及现金等价物为{rmb_zh(f['cash'])}。")
            paras.append("## 业务回顾")
            for _ in range(rng.randint(2, 5 if interim else 9)):
                paras.append("".join(self.filler_zh(rng.randint(3, 6))))
            paras.append("## 研发管线")
            paras.append(f"公司共有{f['pipeline']}个在研项目，期末员工人数为{f['employees']}人。")
            for _ in range(rng.randint(1, 3 if interim else 7)):
                paras.append("".join(self.filler_zh(rng.randint(3, 6))))
        fm = {"title": title, "date": pub.isoformat(), "company": zh if lang == "zh" else short, "tickers": [ticker],
              "doc_type": "filing", "language": lang, "source": "HKEXnews" if ticker.endswith(".HK") else "SSE"}
        return fm, "\n\n".join(paras)

    def roundup_doc(self, lang: str) -> tuple[dict[str, object], str]:
        rng = self.rng
        recent = self.deals[-rng.randint(3, 8):] if self.deals else []
        d = max((x.date for x in recent), default=self.date()) + dt.timedelta(days=rng.randint(1, 6))
        paras: list[str] = []
        if lang == "en":
            title = f"China biotech licensing round-up: week of {d:%B} {d.day}, {d.year}"
            paras.append(f"Chinese drug developers signed {rng.randint(3, 14)} out-licensing deals this week, "
                         f"with disclosed upfront payments totalling {usd_en(sum(x.upfront_m for x in recent) or 100)}.")
            for x in recent:
                c = COMPANIES[x.company]
                paras.append(f"## {c[1]} and {x.partner_en}")
                paras.append(f"{c[1]} licensed {x.code} ({x.target}) to {x.partner_en} for {usd_en(x.upfront_m)} "
                             f"upfront and up to {usd_en(x.milestones_m)} in milestones. "
                             + " ".join(self.filler_en(rng.randint(1, 3))))
            paras.append("## Market view")
            paras.append(" ".join(self.filler_en(rng.randint(3, 6))))
        else:
            title = f"创新药授权交易周报（{d.year}年{d.month}月{d.day}日）"
            paras.append(f"本周中国药企共达成{rng.randint(3, 14)}笔对外授权交易，"
                         f"披露的首付款合计{usd_zh(sum(x.upfront_m for x in recent) or 100)}。")
            for x in recent:
                c = COMPANIES[x.company]
                paras.append(f"## {c[2]}与{x.partner_zh}")
                paras.append(f"{c[2]}将{x.code}（{x.target}）授权给{x.partner_zh}，首付款{usd_zh(x.upfront_m)}，"
                             f"里程碑付款最高{usd_zh(x.milestones_m)}。" + "".join(self.filler_zh(rng.randint(1, 3))))
            paras.append("## 市场观点")
            paras.append("".join(self.filler_zh(rng.randint(3, 6))))
        fm = {"title": title, "date": d.isoformat(), "doc_type": "news", "language": lang,
              "source": rng.choice(PUBLISHERS_ZH if lang == "zh" else PUBLISHERS_EN)}
        return fm, "\n\n".join(paras)

    def commentary_doc(self, lang: str) -> tuple[dict[str, object], str]:
        rng = self.rng
        d = self.date()
        n = rng.choice([1, 2, 2, 3, 4, 6, 10])
        if lang == "en":
            title = rng.choice(["Innovative drug sector outlook", "Why investors are returning to China biotech",
                                "Out-licensing enters a harvest phase", "Biotech ETFs track a sector rebound"])
            title = f"{title} ({d:%B} {d.year})"
            paras = [" ".join(self.filler_en(rng.randint(4, 7))) for _ in range(n)]
            paras.insert(0, f"Chinese companies concluded {rng.randint(60, 180)} license-out deals in {d.year - 1}, "
                            f"with a total deal value of {usd_en(rng.randint(20000, 140000))}.")
        else:
            title = rng.choice(["创新药板块展望", "资金回流中国生物科技", "对外授权进入收获期", "创新药ETF跟踪板块反弹"])
            title = f"{title}（{d.year}年{d.month}月）"
            paras = ["".join(self.filler_zh(rng.randint(4, 7))) for _ in range(n)]
            paras.insert(0, f"{d.year - 1}年，中国药企共达成{rng.randint(60, 180)}笔对外授权交易，"
                            f"交易总额达{usd_zh(rng.randint(20000, 140000))}。")
        fm = {"title": title, "date": d.isoformat(), "doc_type": "other" if rng.random() < 0.3 else "news",
              "language": lang, "source": rng.choice(PUBLISHERS_ZH if lang == "zh" else PUBLISHERS_EN)}
        return fm, "\n\n".join(paras)


def estimate_chunks(body: str, lang: str) -> float:
    return len(body) / CHARS_PER_CHUNK[lang]


def render(fm: dict[str, object], body: str) -> str:
    lines = ["---"]
    for k, v in fm.items():
        lines.append(f"{k}: {json.dumps(v, ensure_ascii=False)}")
    lines.append("---")
    return "\n".join(lines) + "\n" + body + "\n"


def generate(out: Path, chunks: int, seed: int, questions: int, max_docs: int = 0,
             world_seed: int | None = None) -> dict[str, int]:
    g = Generator(seed, world_seed)
    rng = g.rng
    docs = out / "docs"
    if docs.exists():
        shutil.rmtree(docs)
    docs.mkdir(parents=True)
    est = 0.0
    n = 0
    deal_files: list[tuple[Deal, str, str]] = []
    filings: list[tuple[int, int, str, str]] = []  # company, year, lang, file
    filing_keys: set[tuple[int, int, bool, str]] = set()
    counts = {"deal": 0, "filing": 0, "roundup": 0, "commentary": 0, "zh": 0}
    while est < chunks and not (max_docs and n >= max_docs):
        lang = "zh" if rng.random() < 1 / 3 else "en"
        kind = rng.choices(["deal", "filing", "roundup", "commentary"], weights=[5, 2, 1, 2])[0]
        n += 1
        if kind == "filing":
            ci, year, interim = rng.randrange(len(COMPANIES)), rng.choice(YEARS), rng.random() < 0.4
            if (ci, year, interim, lang) in filing_keys:
                kind = "commentary"
            else:
                filing_keys.add((ci, year, interim, lang))
        if kind == "deal":
            fm, body, deal = g.deal_doc(lang)
            name = f"{deal.date.isoformat()}-{COMPANIES[deal.company][1].lower().replace(' ', '-')}-deal-{n:06d}.md"
            deal_files.append((deal, lang, name))
        elif kind == "filing":
            fm, body = g.filing_doc(lang, ci, year, interim)
            name = f"{COMPANIES[ci][1].lower().replace(' ', '-')}-{year}-{'interim' if interim else 'annual'}-results-{lang}-{n:06d}.md"
            if not interim:
                filings.append((ci, year, lang, name))
        elif kind == "roundup":
            fm, body = g.roundup_doc(lang)
            name = f"roundup-{fm['date']}-{n:06d}.md"
        else:
            fm, body = g.commentary_doc(lang)
            name = f"commentary-{fm['date']}-{n:06d}.md"
        counts[kind] += 1
        counts["zh"] += lang == "zh"
        (docs / name).write_text(render(fm, body), encoding="utf-8")
        est += estimate_chunks(body, str(lang))
    # Questions with known answers, from the same seed.
    qs: list[dict[str, object]] = []
    picks = rng.sample(deal_files, min(len(deal_files), questions * 2 // 3 + 1))
    for deal, lang, name in picks:
        c = COMPANIES[deal.company]
        milestone = rng.random() < 0.3
        if lang == "en":
            month = f"{MONTHS_EN[deal.date.month - 1]} {deal.date.year}"
            if milestone:
                q = f"Up to how much in milestone payments can {c[1]} receive from {deal.partner_en} under the {month} deal?"
                exp = usd_en(deal.milestones_m)
            else:
                q = f"What upfront payment did {c[1]} receive from {deal.partner_en} in the {month} deal?"
                exp = usd_en(deal.upfront_m)
        else:
            if milestone:
                q = f"{c[2]}{deal.date.year}年{deal.date.month}月与{deal.partner_zh}的交易中，最高可获得多少里程碑付款？"
                exp = usd_zh(deal.milestones_m)
            else:
                q = f"{c[2]}{deal.date.year}年{deal.date.month}月与{deal.partner_zh}的交易获得了多少首付款？"
                exp = usd_zh(deal.upfront_m)
        qs.append({"question": q, "expected": exp, "doc": name, "lang": lang,
                   "kind": "milestones" if milestone else "upfront"})
    for ci, year, lang, name in rng.sample(filings, min(len(filings), questions - len(qs))):
        c, f = COMPANIES[ci], g.fin[(ci, year)]
        if lang == "en":
            q, exp = f"What was {c[1]}'s revenue in {year}?", rmb_en(f["revenue"])
        else:
            q, exp = f"{c[2]}{year}年的营业收入是多少？", rmb_zh(f["revenue"])
        qs.append({"question": q, "expected": exp, "doc": name, "lang": lang, "kind": "revenue"})
    rng.shuffle(qs)
    with (out / "questions.jsonl").open("w", encoding="utf-8") as fh:
        for q in qs[:questions]:
            fh.write(json.dumps(q, ensure_ascii=False) + "\n")
    counts.update(docs=n, estimated_chunks=round(est), questions=min(len(qs), questions))
    (out / "manifest.json").write_text(json.dumps({"seed": seed, "target_chunks": chunks, **counts}, indent=1))
    return counts


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="output folder (docs/ and questions.jsonl are written in it)")
    p.add_argument("--chunks", type=int, default=1000, help="target size in ingested chunks (default 1000)")
    p.add_argument("--docs", type=int, default=0, help="stop at this many documents (with a large --chunks)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--world-seed", type=int, default=None,
                   help="seed of the company figures (default: --seed); give the base corpus's seed to an extra corpus")
    p.add_argument("--questions", type=int, default=60, help="questions with known answers (default 60)")
    args = p.parse_args()
    counts = generate(args.out, args.chunks, args.seed, args.questions, args.docs, args.world_seed)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
