"""A constructed dataset with planted duplicates and hard negatives, with its ground truth.

Every record is an OpenAI-chat sample. `build()` returns the records (in a shuffled but fixed
order) and the truth as 0-based record-index pairs, by kind:

exact        whitespace, case and full-width (NFKC) variants of a base sample
punct        punctuation changed or dropped
typo         one or two typos / a dropped word
reorder      the answer's sentences in another order
zh           Chinese samples with a few characters changed or added
para         the question reworded, answer kept (a light paraphrase)
negative     hard negatives: same template or topic, different meaning (never a duplicate)

The detectors are expected to find (their recall is measured on):
exact: exact;  lexical: exact, punct, typo, reorder, zh;  semantic: exact, punct, typo, reorder, para.
Precision counts a found pair as right when it is any planted duplicate pair.
"""

from __future__ import annotations

import random

BASE = [
    (
        "How do I reset my password?",
        "Open Settings, choose Security and press Reset password. We email you a link that works for one hour.",
    ),
    (
        "Can I get a refund for an annual plan?",
        "Yes. Annual plans are refunded in full within 30 days of purchase. After that we refund the unused months.",
    ),
    (
        "Why was my card declined?",
        "Banks decline cards for insufficient funds, an expired card or a fraud check. Try another card or call your bank.",
    ),
    (
        "How do I export my data?",
        "Go to Account, then Privacy, and press Export. The archive arrives by email as a zip file within a day.",
    ),
    (
        "Can I change the email address on my account?",
        "Yes. In Settings, open Profile and edit Email. We send a confirmation to the new address before it changes.",
    ),
    (
        "Does the app work offline?",
        "Most features work offline. Your changes sync automatically the next time the device is online.",
    ),
    (
        "How do I invite a teammate?",
        "Open Team, press Invite and type their email address. They join once they accept the invitation.",
    ),
    (
        "What payment methods do you accept?",
        "We accept Visa, Mastercard, American Express and PayPal. Bank transfers are possible for yearly invoices.",
    ),
    (
        "How do I delete my account?",
        "Open Settings, then Account, and press Delete account. Deletion is permanent after a grace period of 14 days.",
    ),
    (
        "Is my data encrypted?",
        "Yes. Data is encrypted in transit with TLS and at rest with AES-256. Encryption keys are rotated every quarter.",
    ),
    (
        "How can I contact support?",
        "Write to support through the Help menu or use the chat in the bottom corner. We answer within one business day.",
    ),
    (
        "Why is the app so slow today?",
        "We are investigating degraded performance in one region. The status page has live updates on the incident.",
    ),
    (
        "Can I use the product on two computers?",
        "Each licence covers up to three devices. Sign in with the same account on each computer to use it.",
    ),
    (
        "How do I turn on two-factor authentication?",
        "Open Security settings and choose Two-factor authentication. Scan the QR code with an authenticator app.",
    ),
    (
        "Where can I download my invoices?",
        "Invoices are under Billing, then History. Each invoice can be downloaded as a PDF file.",
    ),
    (
        "How do I cancel my subscription?",
        "Go to Billing and press Cancel subscription. You keep access until the end of the current billing period.",
    ),
    (
        "Can I upgrade from the basic plan to the pro plan?",
        "Yes. Open Billing, choose Change plan and select Pro. The price difference is charged pro rata.",
    ),
    (
        "Why did I receive two charges this month?",
        "A second charge is usually a pending authorisation that disappears in a few days. Contact us if it stays.",
    ),
    (
        "How do I change the language of the interface?",
        "Open Preferences and pick a language from the list. The interface switches immediately without a restart.",
    ),
    (
        "Do you offer discounts for students?",
        "Students get half price on the pro plan. Verify your status with a university email address to claim it.",
    ),
    (
        "What happens to my files if I stop paying?",
        "Your files stay readable for ninety days. After that the workspace is archived and can be restored on request.",
    ),
    (
        "How do I share a folder with a client?",
        "Right-click the folder, choose Share and enter the client's email. You can make the link read-only.",
    ),
    (
        "Can I recover a file I deleted last week?",
        "Deleted files stay in the Trash for thirty days. Open Trash, select the file and press Restore.",
    ),
    (
        "How do I connect the app to my calendar?",
        "Open Integrations, choose Calendar and sign in with your calendar provider. Events appear within minutes.",
    ),
    (
        "Is there a limit on file size?",
        "Single files can be up to five gigabytes on every plan. Larger files can be split or sent with the desktop app.",
    ),
    (
        "Why can't I log in after changing my phone?",
        "Your authenticator codes stayed on the old phone. Use a backup code or ask support to reset two-factor login.",
    ),
    (
        "How do I print a report?",
        "Open the report, press the menu with three dots and choose Print. You can also save it as a PDF first.",
    ),
    (
        "Can several people edit a document at the same time?",
        "Yes. Everyone with edit access sees the others' cursors and changes live, and conflicts merge automatically.",
    ),
    (
        "How do I change my billing address?",
        "Open Billing, then Payment details, and edit the address. New invoices use the new address from then on.",
    ),
    (
        "What is your uptime guarantee?",
        "The business plan includes a 99.9 percent uptime guarantee. Credits are issued automatically for any breach.",
    ),
]

ZH = [
    ("如何重置我的账户密码？", "请打开设置，选择安全，然后点击重置密码。我们会向您的邮箱发送一个一小时内有效的链接。"),
    ("年度套餐可以退款吗？", "可以。购买后三十天内全额退款，之后我们会退还未使用月份的费用。"),
    ("为什么我的银行卡被拒绝了？", "银行可能因余额不足、卡片过期或风控检查而拒绝交易。请换一张卡或联系您的银行。"),
    ("怎样导出我的数据？", "进入账户，然后进入隐私，点击导出。压缩包会在一天内通过电子邮件发送给您。"),
    ("这个应用可以离线使用吗？", "大部分功能可以离线使用。设备下次联网时，您的修改会自动同步。"),
    ("如何邀请同事加入团队？", "打开团队页面，点击邀请并输入对方的邮箱地址。对方接受邀请后即可加入。"),
]

# Hard negatives: (question, answer) pairs that look like a BASE entry but mean something else.
NEGATIVES = [
    (
        0,
        (
            "How do I reset my username?",
            "Usernames cannot be reset. Create a new account if you need a different name, then move your files.",
        ),
    ),
    (
        1,
        (
            "Can I get a refund for a monthly plan?",
            "Monthly plans are not refunded. You can cancel at any time and keep access until the month ends.",
        ),
    ),
    (
        3,
        (
            "How do I import my data?",
            "Go to Account, then Import, and upload a CSV or JSON file. Large imports run in the background.",
        ),
    ),
    (
        8,
        (
            "How do I delete a project?",
            "Open the project, press the menu and choose Delete project. Only the owner can delete a project.",
        ),
    ),
    (
        15,
        (
            "How do I pause my subscription?",
            "Subscriptions cannot be paused. Downgrade to the free plan instead and upgrade again later.",
        ),
    ),
    (
        16,
        (
            "Can I downgrade from the pro plan to the basic plan?",
            "Yes, but pro features stop at the end of the billing period and projects above the basic limit become read-only.",
        ),
    ),
    (
        22,
        (
            "Can I recover a file I overwrote last week?",
            "Open the file's version history and pick an earlier version. Versions are kept for sixty days.",
        ),
    ),
    (
        24,
        (
            "Is there a limit on the number of users?",
            "The basic plan allows five users, the pro plan fifty. Enterprise plans have no user limit.",
        ),
    ),
    (9, ("Is my data backed up?", "Yes. Backups run every night and are kept for thirty days in a second region.")),
    (
        13,
        (
            "How do I turn off two-factor authentication?",
            "Open Security settings and choose Disable two-factor authentication. You must confirm with a current code.",
        ),
    ),
]
ZH_NEGATIVES = [
    (0, ("如何修改我的账户用户名？", "用户名无法修改。如需新的名称，请注册新账户，然后迁移您的文件。")),
    (1, ("月度套餐可以退款吗？", "月度套餐不支持退款。您可以随时取消，并在当月结束前继续使用。")),
]


def _exact(q: str, a: str, k: int) -> tuple[str, str]:
    if k % 3 == 0:
        return "  " + q.upper() + " ", a.replace(" ", "  ", 3)
    if k % 3 == 1:
        return q.lower(), a.replace(". ", ".\n\n")
    # Full-width ASCII letters fold under NFKC.
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in q), a


def _punct(q: str, a: str, k: int) -> tuple[str, str]:
    if k % 2 == 0:
        return q.rstrip("?"), a.replace(". ", "; ", 1)
    return q.replace("?", "??"), a.replace(",", "").rstrip(".") + "!"


def _typo(q: str, a: str, k: int) -> tuple[str, str]:
    words = a.split(" ")
    i = 3 + k % 5
    w = words[i]
    words[i] = w[:1] + w[2:1:-1] + w[1:2] + w[3:] if len(w) > 3 else w + w[-1]
    del words[-3]
    return q, " ".join(words)


def _reorder(q: str, a: str, k: int) -> tuple[str, str]:
    sents = [s.strip() for s in a.split(". ")]
    sents = [s if s.endswith(".") else s + "." for s in sents]
    return q, " ".join(reversed(sents))


PARAPHRASES = {
    0: "How can I reset my password?",
    2: "Why did my card get declined?",
    4: "Is it possible to change the email address on my account?",
    6: "How can I invite a teammate?",
    8: "How can I delete my account?",
    10: "How do I get in touch with support?",
    14: "Where do I download my invoices?",
    17: "Why was I charged twice this month?",
    18: "How can I change the language of the interface?",
    23: "How can I connect the app to my calendar?",
}


def _zh_variant(q: str, a: str, k: int) -> tuple[str, str]:
    if k % 2 == 0:
        return q.replace("？", "?"), a.replace("。", "！", 1).replace("然后", "接着", 1)
    return q, a[:-1] + "，谢谢。" if a.endswith("。") else a + "谢谢"


def chat(user: str, assistant: str) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


def build(seed: int = 7) -> tuple[list[dict], dict[str, set[tuple[int, int]]]]:
    items: list[tuple[tuple[str, str], int, str]] = []  # (q, a), group, kind
    for g, qa in enumerate(BASE):
        items.append((qa, g, "base"))
    for g, qa in enumerate(ZH):
        items.append((qa, 100 + g, "base"))
    for k, g in enumerate(range(0, 30, 3)):
        items.append((_exact(*BASE[g], k), g, "exact"))
    for k, g in enumerate(range(1, 30, 3)):
        items.append((_punct(*BASE[g], k), g, "punct"))
    for k, g in enumerate(range(2, 30, 4)):
        items.append((_typo(*BASE[g], k), g, "typo"))
    for k, g in enumerate((3, 5, 9, 11, 13, 19, 21, 25)):
        items.append((_reorder(*BASE[g], k), g, "reorder"))
    for g, q in PARAPHRASES.items():
        items.append(((q, BASE[g][1]), g, "para"))
    for k, g in enumerate(range(len(ZH))):
        items.append((_zh_variant(*ZH[g], k), 100 + g, "zh"))
    for n, (g, qa) in enumerate(NEGATIVES):
        items.append((qa, 1000 + n, f"negative-of-{g}"))
    for n, (g, qa) in enumerate(ZH_NEGATIVES):
        items.append((qa, 2000 + n, f"negative-of-{100 + g}"))
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    items = [items[i] for i in order]
    records = [chat(q, a) for (q, a), _, _ in items]
    truth: dict[str, set[tuple[int, int]]] = {
        k: set() for k in ("exact", "punct", "typo", "reorder", "zh", "para", "negative")
    }
    by_group: dict[int, list[int]] = {}
    for i, (_, g, _) in enumerate(items):
        by_group.setdefault(g, []).append(i)
    for i, (_, g, kind) in enumerate(items):
        if kind in truth:
            for j in by_group[g]:
                if j != i and items[j][2] == "base":
                    truth[kind].add((min(i, j), max(i, j)))
        elif kind.startswith("negative-of-"):
            base_group = int(kind.rsplit("-", 1)[1])
            for j in by_group[base_group]:
                truth["negative"].add((min(i, j), max(i, j)))
    return records, truth


EXPECTED = {
    "exact": ("exact",),
    "lexical": ("exact", "punct", "typo", "reorder", "zh"),
    "semantic": ("exact", "punct", "typo", "reorder", "para"),
}


def all_duplicates(truth: dict[str, set[tuple[int, int]]]) -> set[tuple[int, int]]:
    """Every planted duplicate pair, closed over each base's variants (two variants of one base
    are duplicates of each other too)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for kind, pairs in truth.items():
        if kind == "negative":
            continue
        for a, b in pairs:
            parent[find(a)] = find(b)
    comps: dict[int, list[int]] = {}
    for x in list(parent):
        comps.setdefault(find(x), []).append(x)
    return {(min(a, b), max(a, b)) for c in comps.values() for a in c for b in c if a < b}
