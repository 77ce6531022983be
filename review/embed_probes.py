"""The fixed probe set the int8 fast model is calibrated on (see embed.OnnxInt8Embedder.calibration).

`probe_texts()` returns the same texts, in the same order, on every machine and Python version:
short support-style samples in English and Chinese, written for this purpose (not taken from
any dataset, nor from the test suite's planted set), each base with edited copies that put
pairs at every cosine from about 0.6 to 1.0: a case and spacing change, a typo, a dropped word,
the answer's sentences swapped, the question reworded, and a hard negative (a word that changes
the meaning). The edits are chosen by position, not by a random generator, so nothing depends on
a seed's implementation. Changing these texts changes the calibration: bump PROBE_SET.
"""

from __future__ import annotations

PROBE_SET = "probes-1"

# (question, reworded question, answer of two sentences, (word in the answer, a word that changes its meaning))
_EN = [
    (
        "How do I boil an egg so the yolk stays soft?",
        "What is the way to cook an egg with a runny yolk?",
        "Put the egg in boiling water for six minutes. Then cool it in cold water before peeling.",
        ("six", "twelve"),
    ),
    (
        "Can I bring a laptop in my carry-on bag?",
        "Is a laptop allowed in hand luggage?",
        "Yes, laptops are allowed in carry-on bags. Take it out at the security check.",
        ("allowed", "forbidden"),
    ),
    (
        "How do I rename a branch in git?",
        "What command renames a git branch?",
        "Run git branch -m old-name new-name. Push the new name and delete the old one on the remote.",
        ("delete", "keep"),
    ),
    (
        "Why does my bread not rise?",
        "What stops bread dough from rising?",
        "The yeast may be old or the water too hot. Let the dough rest somewhere warm for an hour.",
        ("warm", "cold"),
    ),
    (
        "How often should I water a cactus?",
        "How much water does a cactus need?",
        "Water a cactus every two weeks in summer. In winter it needs almost no water.",
        ("summer", "winter"),
    ),
    (
        "What is the capital of Australia?",
        "Which city is Australia's capital?",
        "The capital of Australia is Canberra. Many people guess Sydney, which is the largest city.",
        ("largest", "oldest"),
    ),
    (
        "How do I sort a list in Python?",
        "What is the way to order a Python list?",
        "Call sorted(items) for a new list or items.sort() to sort in place. Pass reverse=True for descending order.",
        ("descending", "ascending"),
    ),
    (
        "Should I stretch before running?",
        "Is stretching before a run a good idea?",
        "A short warm-up is better than long stretches before a run. Stretch after running when the muscles are warm.",
        ("after", "before"),
    ),
    (
        "How do I get a stain out of a white shirt?",
        "What removes stains from white clothes?",
        "Soak the shirt in cold water with a little detergent. Do not use hot water, which sets the stain.",
        ("cold", "hot"),
    ),
    (
        "Can dogs eat chocolate?",
        "Is chocolate safe for dogs?",
        "No, chocolate is toxic to dogs. Call a vet if your dog has eaten some.",
        ("toxic", "healthy"),
    ),
    (
        "How do I write a cover letter?",
        "What goes into a good cover letter?",
        "Keep it to one page and name the job you apply for. Explain why your experience fits the role.",
        ("one", "three"),
    ),
    (
        "What time zone is Tokyo in?",
        "Which time zone does Tokyo use?",
        "Tokyo uses Japan Standard Time, nine hours ahead of UTC. Japan does not use daylight saving time.",
        ("ahead of", "behind"),
    ),
    (
        "How do I center a div in CSS?",
        "What is the CSS to center an element?",
        "Give the parent display: flex with justify-content and align-items set to center. The child is then centered both ways.",
        ("center", "start"),
    ),
    (
        "How long can cooked rice stay in the fridge?",
        "How many days does cooked rice keep when refrigerated?",
        "Cooked rice keeps for four days in the fridge. Cool it quickly and reheat it until it is hot all the way through.",
        ("four", "ten"),
    ),
    (
        "Is it safe to charge my phone overnight?",
        "Can I leave my phone charging all night?",
        "Yes, modern phones stop charging when the battery is full. Keep the phone off the bed so it does not overheat.",
        ("stop", "keep"),
    ),
    (
        "How do I convert Celsius to Fahrenheit?",
        "What is the formula from Celsius to Fahrenheit?",
        "Multiply the Celsius value by nine fifths and add thirty-two. For example, twenty degrees Celsius is sixty-eight Fahrenheit.",
        ("add", "subtract"),
    ),
    (
        "Why is the sky blue?",
        "What makes the sky look blue?",
        "Air scatters blue light more than red light. So blue light reaches our eyes from every part of the sky.",
        ("more", "less"),
    ),
    (
        "How do I undo the last commit?",
        "What is the way to revert my latest git commit?",
        "Run git reset --soft HEAD~1 to undo the commit and keep the changes. Use --hard only if you want to lose them.",
        ("keep", "lose"),
    ),
    (
        "What should I pack for a week of hiking?",
        "What gear do I need for a hiking trip of seven days?",
        "Pack layers, a rain jacket and good boots. Bring a first aid kit and more water than you think you need.",
        ("more", "less"),
    ),
    (
        "How do I lower my electricity bill?",
        "What are ways to spend less on electricity?",
        "Switch to LED bulbs and turn off devices at the wall. Run the washing machine at thirty degrees.",
        ("thirty", "ninety"),
    ),
    (
        "Can I freeze milk?",
        "Is it fine to put milk in the freezer?",
        "Yes, milk can be frozen for up to three months. Thaw it in the fridge and shake it before use.",
        ("fridge", "oven"),
    ),
    (
        "How do I read a CSV file with pandas?",
        "What is the pandas function for loading CSV data?",
        "Use pandas.read_csv with the path of the file. Pass sep=';' when the columns are separated by semicolons.",
        ("semicolons", "tabs"),
    ),
    (
        "What is a good bedtime for a five year old?",
        "When should a five year old go to sleep?",
        "Most five year olds need eleven hours of sleep. A bedtime between seven and eight works for many families.",
        ("eleven", "six"),
    ),
    (
        "How do I fix a slow laptop?",
        "What can I do when my laptop is very slow?",
        "Close programs you do not use and remove apps that start with the system. Check that the disk is not almost full.",
        ("remove", "add"),
    ),
    (
        "Do I need a visa to visit Canada?",
        "Is a visa required for a trip to Canada?",
        "Many visitors need an electronic travel authorisation rather than a visa. Check the official site for your passport.",
        ("rather than", "as well as"),
    ),
    (
        "How do I make a cup of green tea?",
        "What is the right way to brew green tea?",
        "Use water at about eighty degrees, not boiling. Steep the leaves for two minutes so the tea is not bitter.",
        ("two", "ten"),
    ),
]

# (question, reworded question, answer, (characters in the answer, characters that change its meaning))
_ZH = [
    (
        "怎样煮鸡蛋才能让蛋黄保持软嫩？",
        "如何煮出溏心蛋？",
        "把鸡蛋放进沸水里煮六分钟。然后放进冷水里冷却再剥壳。",
        ("六", "十二"),
    ),
    (
        "登机时可以带笔记本电脑吗？",
        "笔记本电脑能放在随身行李里吗？",
        "可以，笔记本电脑允许随身携带。安检时需要把它拿出来。",
        ("允许", "禁止"),
    ),
    (
        "为什么我的面包发不起来？",
        "面团不发酵是什么原因？",
        "酵母可能过期了，或者水太热。把面团放在温暖的地方静置一小时。",
        ("温暖", "寒冷"),
    ),
    ("仙人掌多久浇一次水？", "仙人掌需要多少水？", "夏天每两周浇一次水。冬天几乎不需要浇水。", ("夏天", "冬天")),
    (
        "澳大利亚的首都是哪里？",
        "哪个城市是澳大利亚的首都？",
        "澳大利亚的首都是堪培拉。很多人以为是悉尼，那是最大的城市。",
        ("最大", "最古老"),
    ),
    (
        "跑步前应该拉伸吗？",
        "跑步之前做拉伸好不好？",
        "跑步前做简单的热身比长时间拉伸更好。跑完步肌肉温暖时再拉伸。",
        ("跑完步", "跑步前"),
    ),
    (
        "狗可以吃巧克力吗？",
        "巧克力对狗安全吗？",
        "不可以，巧克力对狗有毒。如果狗吃了巧克力，请马上联系兽医。",
        ("有毒", "有益"),
    ),
    (
        "东京属于哪个时区？",
        "东京使用什么时区？",
        "东京使用日本标准时间，比协调世界时快九小时。日本不实行夏令时。",
        ("快", "慢"),
    ),
    (
        "煮熟的米饭能在冰箱里放多久？",
        "冷藏的米饭可以保存几天？",
        "煮熟的米饭在冰箱里可以保存四天。要尽快冷却，加热时要彻底热透。",
        ("四天", "十天"),
    ),
    (
        "整夜给手机充电安全吗？",
        "手机可以充一整晚的电吗？",
        "安全，现在的手机充满电后会自动停止充电。不要把手机放在床上，以免过热。",
        ("停止", "继续"),
    ),
    (
        "天空为什么是蓝色的？",
        "是什么让天空看起来是蓝色？",
        "空气对蓝光的散射比红光更强。所以我们从天空各处都能看到蓝光。",
        ("更强", "更弱"),
    ),
    (
        "牛奶可以冷冻吗？",
        "把牛奶放进冷冻室可以吗？",
        "可以，牛奶最多可以冷冻三个月。在冷藏室解冻，使用前摇匀。",
        ("冷藏室", "烤箱"),
    ),
    ("如何降低电费？", "怎样少花电费？", "换成节能灯，并在插座处关掉电器。洗衣机用三十度水洗。", ("三十", "九十")),
    (
        "怎样泡一杯绿茶？",
        "绿茶的正确冲泡方法是什么？",
        "用八十度左右的水，不要用沸水。浸泡两分钟，这样茶不会苦。",
        ("两分钟", "十分钟"),
    ),
    (
        "去加拿大旅游需要签证吗？",
        "访问加拿大要办签证吗？",
        "很多游客只需要电子旅行授权，而不是签证。请根据护照在官方网站上查询。",
        ("而不是", "以及"),
    ),
    (
        "笔记本电脑很慢怎么办？",
        "电脑运行缓慢该如何处理？",
        "关闭不用的程序，删除开机自启动的应用。检查磁盘是否快满了。",
        ("删除", "添加"),
    ),
]


def _sample(q: str, a: str) -> str:
    return f"user: {q}\nassistant: {a}"


def _typo(text: str, k: int) -> str:
    """Swap two adjacent letters inside the k-th word long enough to have them (by position)."""
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    i = long[k % len(long)]
    w = words[i]
    j = 1 + k % (len(w) - 3)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def _drop_word(text: str, k: int) -> str:
    words = text.split(" ")
    i = 2 + (3 * k) % (len(words) - 3)
    return " ".join(words[:i] + words[i + 1 :])


def _swap_sentences(a: str, sep: str) -> str:
    first, _, rest = a.partition(sep)
    return f"{rest.strip()}{' ' if sep == '. ' else ''}{first}{sep.strip()}"


def probe_texts() -> list[str]:
    """The probe texts, in a fixed order (English first, then Chinese); no two are equal."""
    out: list[str] = []
    for k, (q, q2, a, (w, w2)) in enumerate(_EN):
        out += [
            _sample(q, a),
            _sample(q.lower(), a.replace(". ", ".  ")),  # case and spacing
            _sample(q, _typo(a, k)),
            _sample(q, _drop_word(a, k)),
            _sample(q, _swap_sentences(a, ". ")),
            _sample(q2, a),
            _sample(q, a.replace(w, w2, 1)),  # a hard negative
            q,  # the question alone, and reworded
            q2,
            a,
        ]
    for k, (q, q2, a, (w, w2)) in enumerate(_ZH):
        first, _, rest = a.partition("。")
        out += [
            _sample(q, a),
            _sample(q, a.replace("。", "！", 1)),  # punctuation
            _sample(q, a[: 3 + k % 4] + a[4 + k % 4 :]),  # one character dropped
            _sample(q, a + "谢谢。"),  # a few characters added
            _sample(q, f"{rest}{first}。"),
            _sample(q2, a),
            _sample(q, a.replace(w, w2, 1)),
            q,
            q2,
            a,
        ]
    return list(dict.fromkeys(out))
