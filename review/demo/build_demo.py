"""Build winnow's demo dataset: support_demo.jsonl, labels.json and README.md in this folder.

A dev tool, never imported by the package. Run it from anywhere:

    python review/demo/build_demo.py

The content lives below as plain Python data so that it can be reviewed and edited like code.
Each sample has a stable key; planted cases are recorded against keys, and keys become 0-based
line indices only when the file is written. The line order is a hash of the key (so planted
pairs land far apart, as they would in a real dump), which makes the output byte-identical on
every run and independent of the order the data is written in here.

Northwind Cloud and everything about it is fictional. The house facts the normal answers keep to:
Free 5 GB / 3 devices / 2 GB per file; Plus $4.99; Pro $9.99 a month or $99 a year, 2 TB,
50 GB per file; Team $12.99 per user; refunds within 30 days of a charge; reset links last
60 minutes; Trash keeps files 30 days; deletion has a 14-day grace period; exports are ready
within 48 hours and their link lasts 7 days. In Chinese: 专业版 ¥68/月 或 ¥648/年. Planted
contradictions break exactly one of these facts each.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA_FILE = "support_demo.jsonl"
LABELS_FILE = "labels.json"
README_FILE = "README.md"

EN = (
    "You are the support assistant for Northwind Cloud, a file storage and sync service. Answer customers "
    "accurately and politely. If you are not sure, say so and offer to connect them with a human agent."
)
NORA = (
    "You are Nora, Northwind Cloud's virtual assistant. Keep answers short and friendly, and never guess "
    "about billing or account details."
)
ZH = (
    "你是北风云盘（Northwind Cloud）的客服助手。请用简体中文礼貌、准确地回答用户的问题；"
    "不确定时请如实说明，并提出转接人工客服。"
)

Message = dict[str, Any]

SAMPLES: dict[str, list[Message]] = {}
TOOLS: dict[str, list[dict]] = {}

EXACT: dict[str, list[str]] = {}  # original key -> [original, copies...]
EXACT_NORMALISED: list[list[str]] = []
LEXICAL: list[tuple[str, str]] = []
SEMANTIC: list[tuple[str, str]] = []
HARD_NEGATIVES: list[tuple[str, str]] = []
CLUSTERS: dict[str, list[str]] = {}
DRIFT: list[tuple[str, str, list[str]]] = []  # key, cluster name, features
CONTRADICTIONS: list[tuple[str, str, str]] = []
NOISY: list[tuple[str, list[str]]] = []
BOUNDARY: list[tuple[str, str]] = []
HOSTILE: list[str] = []

# The first line of the file is pinned so that the app opens on an ordinary, well-formed sample.
PINNED_FIRST = "en_plan_switch_annual"


def add(key: str, messages: list[Message], tools: list[dict] | None = None) -> str:
    if key in SAMPLES:
        raise ValueError(f"duplicate key {key}")
    SAMPLES[key] = messages
    if tools is not None:
        TOOLS[key] = tools
    return key


def qa(key: str, user: str, answer: str, system: str | None = EN) -> str:
    messages: list[Message] = [{"role": "system", "content": system}] if system else []
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return add(key, messages)


def zh(key: str, user: str, answer: str, system: str | None = ZH) -> str:
    return qa(key, user, answer, system)


def chat(key: str, system: str | None, *turns: tuple[str, str]) -> str:
    messages: list[Message] = [{"role": "system", "content": system}] if system else []
    messages += [{"role": role, "content": content} for role, content in turns]
    return add(key, messages)


def dup(key: str, of: str) -> str:
    """A verbatim copy of an existing sample: a planted exact duplicate."""
    add(key, copy.deepcopy(SAMPLES[of]), copy.deepcopy(TOOLS.get(of)))
    EXACT.setdefault(of, [of]).append(key)
    return key


def call(call_id: str, name: str, arguments: dict) -> Message:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)},
            }
        ],
    }


def result(call_id: str, content: dict) -> Message:
    return {"role": "tool", "tool_call_id": call_id, "content": json.dumps(content, ensure_ascii=False)}


def tool(name: str, description: str, properties: dict[str, str]) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {k: {"type": "string", "description": v} for k, v in properties.items()},
                "required": list(properties),
            },
        },
    }


# ---------------------------------------------------------------------------------------------
# Ordinary English samples: the house style is answer-first, polite, prose, and ends by offering
# more help.
# ---------------------------------------------------------------------------------------------

qa(
    "en_plan_switch_annual",
    "Can I switch from monthly to annual billing?",
    "Yes. Go to Settings > Billing > Change billing period and choose Annual. The switch happens right away, "
    "any unused time on your monthly plan is credited against the annual price, and paying yearly works out "
    "about 17% cheaper. Let me know if you have any other questions.",
)
qa(
    "en_billing_date",
    "Can I change the date I get billed each month?",
    "Your billing date is the day you first subscribed, and it can't be changed from the app. If you need it "
    "moved, our billing team can apply a one-time prorated adjustment: reply with the date you'd prefer and "
    "I'll pass it on. Let me know if anything else comes up.",
)
qa(
    "en_vat_invoice",
    "I need an invoice with my company name and VAT number on it.",
    "Add your company name and VAT ID under Settings > Billing > Billing details, and every invoice from then "
    "on will include them. For invoices you already have, click Regenerate next to each one in the Invoices "
    "list. Anything else I can help with?",
)
qa(
    "en_payment_methods",
    "Which payment methods do you accept?",
    "We accept Visa, Mastercard, American Express and PayPal, and Team plans on annual billing can also pay by "
    "bank transfer. You can change your payment method at any time under Settings > Billing. Let me know if "
    "you have other questions.",
)
qa(
    "en_card_declined",
    "My card was declined when my plan renewed. Will I lose my files?",
    "No, your files are safe. We retry the payment three times over the next 7 days; if it still fails, the "
    "account moves to the Free plan and becomes read-only while you're above 5 GB, but nothing is deleted. "
    "Updating your card in Settings > Billing retries the payment immediately. Happy to help with anything else.",
)
qa(
    "en_student_discount",
    "Do you have a student discount?",
    "Yes, students get 50% off Pro. Sign up with your university email address, then verify it under "
    "Settings > Billing > Student discount; the discount lasts a year and can be renewed while you're still "
    "enrolled. Let me know if you need a hand with the verification.",
    system=None,
)
qa(
    "en_storage_full",
    "It says my storage is full but I only have a few files.",
    "Files in the Trash still count toward your quota until the Trash is emptied, and so do shared folders "
    "you've added to your Northwind. Settings > Storage shows a breakdown, and emptying the Trash frees the "
    "space within a few minutes. Let me know what the breakdown shows if it still looks wrong.",
)
qa(
    "en_version_history",
    "How do I restore an older version of a spreadsheet?",
    "Right-click the file in the web or desktop app, choose Version history, pick the version you want and "
    "click Restore. The current version is kept as a newer entry, so nothing is lost. Free accounts keep 30 "
    "days of versions and Pro keeps 180 days. Let me know if you need anything else.",
)
qa(
    "en_file_size_limit",
    "Is there a maximum file size for uploads?",
    "Yes: 2 GB per file on the Free plan and 50 GB per file on Plus, Pro and Team. Anything larger needs to "
    "be split or compressed before uploading. Let me know if there's anything else I can help with.",
    system=NORA,
)
qa(
    "en_slow_uploads",
    "Uploads are really slow on my home connection.",
    "The desktop app may be set to limit its upload speed: open Preferences > Network and set Upload rate to "
    "Don't limit. If it's already unlimited, Northwind can only go as fast as your connection's upload "
    "speed, which on home broadband is often a fraction of the download speed. Let me know how it goes.",
)
qa(
    "en_offline_mobile",
    "Can I open files on my phone without internet?",
    "Yes. In the mobile app, open the file's menu and turn on Available offline; the file is downloaded to "
    "your phone and kept up to date whenever you're back online. Offline files use your phone's storage, not "
    "your Northwind quota. Anything else I can help with?",
)
qa(
    "en_camera_upload",
    "Does the app back up my photos automatically?",
    "It can: turn on Camera uploads in the mobile app's Settings and new photos and videos are uploaded to a "
    "Camera Uploads folder. By default it only uploads over Wi-Fi, so it won't use your mobile data. Let me "
    "know if you'd like it to include videos or older photos too.",
    system=NORA,
)
qa(
    "en_link_expiry",
    "Can I make a shared link stop working after a week?",
    "Yes, on Pro and Team plans. When you create the link, open Link settings, turn on Expiry date and pick "
    "the day; after that the link simply stops working. You can also change or remove the date later from "
    "Shared > Links. Let me know if you need anything else.",
)
qa(
    "en_team_invite",
    "How do I add people to our Team account?",
    "As an admin, open the Admin console, go to Members and click Invite. Enter their work email addresses "
    "and they'll get an invitation; each person who accepts is added to your next invoice. Let me know if "
    "you'd like to invite people in bulk from a CSV file.",
)
qa(
    "en_transfer_ownership",
    "A colleague is leaving. How do we keep her files?",
    "A Team admin can open Admin console > Members, select her account and choose Transfer files before "
    "removing her. Her folders, shared links and version history move to the person you choose. Let me know "
    "if you'd like help planning the handover.",
)
qa(
    "en_sso",
    "Does Northwind Team support single sign-on?",
    "Yes, Team supports SAML 2.0 single sign-on with Okta, Microsoft Entra ID, Google Workspace and other "
    "SAML providers. An admin can set it up under Admin console > Security > Single sign-on. Let me know if "
    "you'd like the setup guide.",
)
qa(
    "en_linux_client",
    "Is there a Linux client?",
    "Yes. Northwind Sync runs on Ubuntu 20.04 or later and Fedora 38 or later, with .deb and .rpm packages on "
    "our download page, and there's also a command-line client called nwsync for servers. Let me know if you "
    "need help installing it.",
)
qa(
    "en_apple_silicon",
    "Does the Mac app run natively on M-series chips?",
    "Yes, Northwind Sync has run natively on Apple silicon since version 4.2, so you don't need Rosetta. If "
    "you installed an older version, updating from the app's Help menu switches you to the native build. "
    "Let me know if you need anything else.",
    system=None,
)
qa(
    "en_proxy",
    "Our office uses a proxy. Can the desktop app work through it?",
    "Yes. The app uses your system proxy settings by default, and you can set an HTTP or SOCKS5 proxy by hand "
    "under Preferences > Network > Proxy, including a username and password if your proxy needs one. Let me "
    "know if your IT team needs the list of domains to allow.",
)
qa(
    "en_gdpr",
    "How do I make a GDPR data access request?",
    "Most of your data is available right away through Settings > Privacy > Export my data. For a formal "
    "access request covering everything we hold, email privacy@northwind.example from your account's address "
    "and we'll respond within 30 days. Let me know if you need anything else.",
)
qa(
    "en_eu_region",
    "Can I keep my data stored in the EU?",
    "Yes. Team admins choose the EU or US region when they create the team, and individual accounts created "
    "from the EU are stored in our Frankfurt region by default; you can see yours under Settings > Account. "
    "Let me know if you need a data processing agreement.",
)
qa(
    "en_suspicious_login",
    "I got an email about a sign-in from a city I've never been to.",
    "Please change your password right away, then go to Settings > Security > Devices and sign out any "
    "device you don't recognise. Turning on two-step verification will stop anyone signing in with just the "
    "password. Let me know if you see any files you didn't change, and we'll help you check the account.",
)
qa(
    "en_deleted_account_gone",
    "I deleted my account three weeks ago. Can I get it back?",
    "I'm afraid not: deleted accounts can be restored only during the 14-day grace period, and after that the "
    "account and its files are permanently erased. You're welcome to sign up again with the same email "
    "address. Let me know if I can help you get set up.",
)
qa(
    "en_display_name",
    "How do I change the name people see when I share files?",
    "Go to Settings > Profile and edit your display name; the change shows up on shared folders and comments "
    "within a few minutes. Let me know if you need anything else.",
    system=NORA,
)
qa(
    "en_dark_mode",
    "Is there a dark mode in the web app?",
    "Yes, go to Settings > Appearance and choose Dark, or System to follow your computer's setting. Let me "
    "know if you need anything else.",
)
qa(
    "en_pdf_search",
    "Can Northwind search the text inside my PDFs?",
    "On Pro and Team it can: full-text search covers PDFs, Office documents and even scanned PDFs, usually "
    "within 10 minutes of upload. On Free and Plus, search matches file and folder names only. Let me know "
    "if you have other questions.",
)
qa(
    "en_zip_download",
    "Downloading a big folder from the website keeps failing.",
    "The website downloads folders as a single ZIP, which is limited to 20 GB or 10,000 files. For anything "
    "bigger, the desktop app is the better route, since it downloads files individually and resumes after "
    "interruptions. Let me know if you need help setting that up.",
)
qa(
    "en_mkv_preview",
    "Why can't I preview my .mkv video in the browser?",
    "Browser previews support MP4, MOV and WebM, and MKV isn't one of the formats browsers can play. You can "
    "still download the file or open it in the desktop app, and converting it to MP4 makes it previewable. "
    "Let me know if you have other questions.",
)
qa(
    "en_two_accounts",
    "Can I have my personal and work accounts on the same computer?",
    "Yes. The desktop app can link one personal account and one Team account side by side, each with its own "
    "folder. Open Preferences > Account and click Link another account. Let me know if you need anything else.",
)
qa(
    "en_family_plan",
    "Do you have a family plan?",
    "Not at the moment. Each person needs their own account, but anyone on Pro can share folders with family "
    "members, including people on the Free plan. Let me know if you'd like help setting up a shared family "
    "folder.",
    system=None,
)
qa(
    "en_gift",
    "Can I buy Pro as a gift for someone?",
    "Yes, you can buy a 12-month Pro gift card at northwind.example/gift. The recipient redeems it under "
    "Settings > Billing > Redeem code, and it's added on top of any time they already have. Let me know if "
    "you need anything else.",
    system=NORA,
)
qa(
    "en_android_battery",
    "The Android app is draining my battery.",
    "The most likely cause is Camera uploads running in the background. In the app's Settings > Camera "
    "uploads, turn on Only while charging, and the app will wait until your phone is plugged in. Let me know "
    "if the battery use doesn't improve.",
)
qa(
    "en_shared_quota",
    "Do folders other people share with me use up my storage?",
    "Only once you add them to your Northwind, because from then on they're synced to your devices like your "
    "own files. Folders you just open through a link don't count. Let me know if you need anything else.",
)
qa(
    "en_api",
    "Do you have an API?",
    "Yes, there's a REST API documented at developers.northwind.example, with OAuth 2.0 sign-in and a rate "
    "limit of 600 requests per minute per app. There are official SDKs for Python and JavaScript too. Let me "
    "know what you're building if you'd like pointers.",
)
qa(
    "en_shortcuts",
    "Are there keyboard shortcuts in the web app?",
    "Yes, press ? anywhere in the web app to see the full list. A few handy ones are / to search, n to create "
    "a new folder and Shift+U to upload. Let me know if you need anything else.",
    system=None,
)
qa(
    "en_comment_emails",
    "How do I stop getting an email every time someone comments on a file?",
    "Open Settings > Notifications and turn off Comments under Email; you can keep them on for the mobile "
    "app if you still want to see them there. Let me know if there are other emails you'd like to turn off.",
)
qa(
    "en_invoice_accountant",
    "Can invoices be sent to my accountant as well?",
    "Yes. Under Settings > Billing > Billing details, add up to three extra addresses in Invoice recipients, "
    "and every new invoice will be emailed to them too. Let me know if you need anything else.",
)
qa(
    "en_stolen_laptop",
    "My laptop was stolen. Can I stop it from getting my files?",
    "Yes. Go to Settings > Security > Devices, find the laptop and click Unlink, which signs it out and stops "
    "syncing. On Pro and Team you can also tick Remote wipe, which deletes the Northwind folder from the "
    "laptop the next time it connects. I'm sorry this happened; let me know if you need anything else.",
)
qa(
    "en_backup_folders",
    "Can I sync a folder that's outside the Northwind folder?",
    "Your Desktop, Documents and Pictures folders can be backed up in place under Preferences > Backups. "
    "Any other folder needs to be moved into your Northwind folder, because the app doesn't follow shortcuts "
    "or symbolic links. Let me know if you need anything else.",
)
qa(
    "en_moved_links",
    "If I move a file to another folder, does its shared link still work?",
    "Yes, links keep working when you move or rename a file, as long as it stays in your Northwind. A link only "
    "stops if the file is deleted, the link expires or you turn it off. Let me know if you have other questions.",
)
qa(
    "en_office_coauthor",
    "Can two people edit the same Word document at once?",
    "Yes, if you open it with Office for the web from the Northwind website: everyone sees each other's "
    "changes live. If people edit their synced copies in desktop Word at the same time, you'll get a "
    "conflicted copy instead. Let me know if you'd like help setting up Office for the web.",
)
qa(
    "en_ipad",
    "Is there an iPad app?",
    "Yes, the Northwind app on the App Store works on iPad, with split view and drag and drop between apps. "
    "It needs iPadOS 16 or later. Let me know if you need anything else.",
    system=NORA,
)
qa(
    "en_email_receipts_missing",
    "I never got a receipt for my last payment.",
    "Receipts go to your account's email address and come from billing@northwind.example, so it's worth "
    "checking spam. You can also download every receipt under Settings > Billing > Payment history. Let me "
    "know if you'd like receipts sent to a different address.",
)
qa(
    "en_change_plan_team",
    "Can I move my personal Pro account into our company's Team?",
    "Yes. Accept the Team invitation with the same email address and you'll be asked whether to move your "
    "files into the Team or keep them separate. Your Pro subscription is cancelled and any unused time is "
    "refunded. Let me know if you need anything else.",
)
qa(
    "en_photo_duplicates",
    "Camera uploads created duplicates of some photos.",
    "That can happen if Camera uploads was reinstalled or turned off and on again, because the app can't tell "
    "which photos it already sent. Settings > Storage > Find duplicates lists identical files so you can "
    "remove the extras safely. Let me know if you need anything else.",
)

# ---------------------------------------------------------------------------------------------
# Ordinary Chinese samples: same house style, with 您.
# ---------------------------------------------------------------------------------------------

zh(
    "zh_invoice",
    "怎么开发票？",
    "您可以在 设置 → 账单 → 发票 中选择对应订单，填写抬头和税号后申请增值税电子普通发票，一般 1–3 个工作日内"
    "会发送到您的邮箱。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_payment_methods",
    "支持哪些付款方式？",
    "目前支持支付宝、微信支付、银联卡，以及 Visa 和 Mastercard 信用卡。团队版年付还支持对公转账。如还有其他问题，"
    "欢迎随时联系我们。",
)
zh(
    "zh_expired_membership",
    "会员到期后，我的文件会被删除吗？",
    "不会。会员到期后账号会自动转为免费版，文件都会保留；如果已用空间超过免费版的 5 GB，账号会变为只读，您仍可以"
    "查看、下载和删除文件，但暂时不能上传新文件。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_change_phone",
    "我换了手机号，怎么更换绑定？",
    "请进入 设置 → 账号与安全 → 手机号，点击 更换，先验证原手机号或绑定邮箱，再输入新手机号并完成短信验证即可。"
    "如果原手机号已经无法接收短信，可以选择通过邮箱验证。如需进一步帮助，请随时告诉我。",
)
zh(
    "zh_photo_backup",
    "怎么开启手机相册自动备份？",
    "在 App 中进入 我的 → 相册备份，打开开关并选择需要备份的相册即可。默认只在连接 Wi-Fi 时备份，不会消耗您的"
    "流量。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_link_broken",
    "分享出去的链接，别人说打不开了。",
    "常见原因有三种：链接已过期、链接被取消分享，或者文件已被移入回收站。您可以在 分享管理 中查看这条链接的状态，"
    "必要时重新生成一个。如需进一步帮助，请随时告诉我。",
)
zh(
    "zh_slow_download",
    "网页版下载速度很慢，有什么办法吗？",
    "网页版下载受浏览器限制，大文件建议使用电脑客户端下载，支持断点续传，速度也更稳定。另外请检查客户端 偏好设置 → "
    "网络 中是否开启了下载限速。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_version_history",
    "文件被同事改错了，能恢复到之前的版本吗？",
    "可以。在文件上点击右键，选择 历史版本，找到需要的版本后点击 还原 即可，当前版本也会被保留。免费版保留 30 天的"
    "历史版本，专业版和团队版保留 180 天。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_team_admin",
    "团队版怎么设置管理员？",
    "现有管理员进入 管理后台 → 成员管理，找到对应成员，点击 设为管理员 即可。一个团队最多可以设置 10 位管理员。"
    "如需进一步帮助，请随时告诉我。",
)
zh(
    "zh_free_devices",
    "免费版可以在几台设备上登录？",
    "免费版最多可以在 3 台设备上登录，手机和电脑合并计算；增强版、专业版和团队版不限设备数量。如还有其他问题，"
    "欢迎随时联系我们。",
)
zh(
    "zh_student",
    "有学生优惠吗？",
    "有的。完成学生认证后，专业版可享受五折优惠，有效期一年，在校期间可以续期。您可以在 设置 → 账单 → 学生认证 中"
    "提交学校邮箱或学生证信息。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_file_size",
    "单个文件最大可以上传多大？",
    "免费版单个文件最大 2 GB，增强版、专业版和团队版单个文件最大 50 GB。超过限制的文件需要先分卷压缩再上传。"
    "如需进一步帮助，请随时告诉我。",
    system=None,
)
zh(
    "zh_qr_login",
    "电脑客户端可以扫码登录吗？",
    "可以。打开电脑客户端，在登录页选择 扫码登录，然后用已登录的北风云盘手机 App 扫一扫即可。如还有其他问题，"
    "欢迎随时联系我们。",
)
zh(
    "zh_foreign_login",
    "收到异地登录提醒，但不是我本人操作的。",
    "请您立即修改密码，然后在 设置 → 账号与安全 → 登录设备 中移除不认识的设备，并建议开启两步验证。如果发现文件被"
    "改动或删除，可以通过回收站和历史版本恢复，我们也可以协助您检查账号。如需进一步帮助，请随时告诉我。",
)
zh(
    "zh_renewal_reminder",
    "自动续费之前会提醒我吗？",
    "会的。每次自动续费扣款前 3 天，我们会通过邮件和短信提醒您，您可以在扣款前随时关闭自动续费。如还有其他问题，"
    "欢迎随时联系我们。",
)
zh(
    "zh_shared_quota",
    "别人共享给我的文件夹，会占用我的空间吗？",
    "只有在您把共享文件夹 添加到我的云盘 之后才会占用您的空间；仅通过链接查看的文件夹不占用。如还有其他问题，"
    "欢迎随时联系我们。",
)
zh(
    "zh_video_play",
    "视频可以在线播放吗？",
    "可以。网页版和 App 支持在线播放 MP4、MOV 等常见格式，免费版最高 720P，专业版和团队版支持原画播放。"
    "如需进一步帮助，请随时告诉我。",
)
zh(
    "zh_content_search",
    "能按文件里的内容搜索吗？",
    "专业版和团队版支持全文搜索，可以搜索 PDF、Office 文档中的文字，扫描件也能识别；免费版和增强版只能按文件名搜索。"
    "如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_offline",
    "没有网络的时候能看文件吗？",
    "可以。在 App 中对文件或文件夹开启 离线可用，文件会下载到手机上，没有网络时也能打开，联网后会自动更新。"
    "如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_empty_trash",
    "回收站可以手动清空吗？",
    "可以。进入回收站后点击右上角的 清空回收站 即可。请注意，清空后文件将被彻底删除，无法再恢复。如需进一步帮助，"
    "请随时告诉我。",
)
zh(
    "zh_team_trial",
    "团队版可以先试用吗？",
    "可以。团队版提供 14 天免费试用，最多可邀请 10 位成员，试用期间不会扣费，到期前您可以决定是否正式购买。"
    "如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_nickname",
    "怎么修改昵称？",
    "在 App 中点击 我的 → 个人资料 → 昵称，修改后保存即可，共享文件夹中其他成员看到的名字也会同步更新。"
    "如还有其他问题，欢迎随时联系我们。",
    system=None,
)
zh(
    "zh_mac_uninstall",
    "Mac 客户端卸载后，本地的文件还在吗？",
    "还在。卸载客户端只会删除程序本身，您电脑上的北风云盘文件夹会保留，云端的文件也不受影响。重新安装后选择原来的"
    "文件夹，客户端会自动比对，不需要重新下载。如需进一步帮助，请随时告诉我。",
)
zh(
    "zh_invoice_redo",
    "发票抬头写错了，可以重开吗？",
    "可以。在 设置 → 账单 → 发票 中找到这张发票，点击 申请重开，填写正确的抬头和税号即可，原发票会自动作废。"
    "开票后 30 天内可以申请重开一次。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_bank_transfer",
    "团队版支持对公转账吗？",
    "支持。团队版选择年付时可以使用对公转账，请联系 sales-cn@northwind.example 获取收款账户信息，到账后我们会为您"
    "开通并开具发票。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_family_share",
    "可以和家人共享一个会员吗？",
    "会员权益仅限本人账号使用，不能多人共享同一个账号。不过您可以创建共享文件夹邀请家人加入，大家一起查看和上传照片。"
    "如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_upload_network_error",
    "上传文件一直失败，提示“网络错误”。",
    "请先确认网络连接正常，并尝试切换网络（例如从 Wi-Fi 切换到手机热点）。如果使用了代理或公司网络，可能需要在客户端的"
    " 偏好设置 → 网络 中配置代理。问题仍然存在的话，请把客户端 帮助 → 导出诊断信息 生成的文件发给我们。"
    "如需进一步帮助，请随时告诉我。",
)
zh(
    "zh_data_location",
    "我的数据存在哪里？安全吗？",
    "中国大陆用户的数据存储在位于上海的数据中心，所有文件在存储时使用 AES-256 加密，传输过程使用 TLS 加密。"
    "如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_wechat_login",
    "可以用微信登录吗？",
    "可以。在登录页点击微信图标，授权后即可登录；如果是第一次使用微信登录，系统会提示您绑定已有账号或创建新账号。"
    "如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_folder_color",
    "文件夹可以设置颜色或者标签吗？",
    "可以。在网页版或电脑客户端中右键点击文件夹，选择 标签，就可以添加颜色标签，方便分类查找。如需进一步帮助，"
    "请随时告诉我。",
    system=None,
)

# ---------------------------------------------------------------------------------------------
# Multi-turn and tool-using samples (ordinary).
# ---------------------------------------------------------------------------------------------

chat(
    "en_mt_migrate_gdrive",
    EN,
    ("user", "I want to move everything from Google Drive to Northwind. Is there an import tool?"),
    (
        "assistant",
        "There isn't a direct importer yet, but the move is straightforward. Roughly how much data are we talking "
        "about, and are any of the files Google Docs or Sheets?",
    ),
    ("user", "About 300 GB, mostly photos and PDFs. A few Sheets."),
    (
        "assistant",
        "Then Pro's 2 TB will give you plenty of room. Use Google Takeout to download your Drive, which exports "
        "Sheets as .xlsx files, then move the unzipped folders into your Northwind folder and let the desktop app "
        "upload them; at 300 GB that usually takes a day or two on home broadband. Let me know if you'd like tips "
        "for keeping your folder structure intact.",
    ),
)
chat(
    "en_mt_shared_edit",
    None,
    ("user", "How do I let my accountant edit just one folder?"),
    (
        "assistant",
        "Right-click the folder, choose Share, enter your accountant's email and set the permission to Can edit. "
        "They'll only see that folder, nothing else in your account. Anything else?",
    ),
    ("user", "And when tax season is over, can I take the access back?"),
    (
        "assistant",
        "Yes, open the same Share dialog, click their name and choose Remove. Their access ends immediately, and "
        "any copies they synced to their own computer stop updating. Let me know if you need anything else.",
    ),
)
chat(
    "zh_mt_company_invoice",
    ZH,
    ("user", "我想开发票"),
    ("assistant", "好的，请问您需要个人抬头还是企业抬头的发票？"),
    ("user", "企业的，公司要报销"),
    (
        "assistant",
        "企业发票需要填写公司名称和纳税人识别号。请在 设置 → 账单 → 发票 中选择对应订单，抬头类型选择 企业，填写后提交，"
        "电子发票会在 1–3 个工作日内发送到您的邮箱。如还有其他问题，欢迎随时联系我们。",
    ),
)

LOOKUP_SUBSCRIPTION = tool(
    "lookup_subscription",
    "Look up the subscription on a Northwind account.",
    {"email": "The email address on the account."},
)
SERVICE_STATUS = {
    "type": "function",
    "function": {
        "name": "get_service_status",
        "description": "Current status of Northwind services and any open incident.",
        "parameters": {"type": "object", "properties": {}},
    },
}
REFUND_STATUS = tool("get_refund_status", "查询退款进度。", {"order_id": "订单号"})
CREATE_TICKET = tool(
    "create_ticket",
    "File a ticket with the engineering team.",
    {
        "category": "bug, billing or account",
        "summary": "One line describing the problem.",
        "priority": "low, normal or high",
    },
)

add(
    "en_tool_renewal",
    [
        {"role": "system", "content": NORA},
        {"role": "user", "content": "Can you check when my Pro plan renews? The account is dana.k@example.com"},
        call("call_7Qe2", "lookup_subscription", {"email": "dana.k@example.com"}),
        result(
            "call_7Qe2",
            {
                "plan": "pro",
                "billing_period": "annual",
                "renews_on": "2024-11-03",
                "auto_renew": True,
                "price": "99.00 USD",
            },
        ),
        {
            "role": "assistant",
            "content": "Your Pro plan renews on 3 November 2024 on annual billing at $99, and auto-renew is on. If you'd "
            "like to turn it off, you can do that under Settings > Billing. Anything else I can check for you?",
        },
    ],
    tools=[LOOKUP_SUBSCRIPTION],
)
add(
    "en_tool_outage",
    [
        {"role": "system", "content": EN},
        {"role": "user", "content": "Is Northwind down? Nothing has synced for an hour."},
        call("call_Zr81", "get_service_status", {}),
        result(
            "call_Zr81",
            {
                "sync": "degraded",
                "web": "operational",
                "incident": "Delayed sync for some EU accounts",
                "started_at": "2024-06-02T09:40:00Z",
            },
        ),
        {
            "role": "assistant",
            "content": "Yes, there's an ongoing incident: since 09:40 UTC some accounts in our EU region have delayed "
            "syncing, while the website is working normally. Your files are safe and will sync automatically once "
            "it's resolved, and you can follow updates at status.northwind.example. Let me know if anything still "
            "looks wrong afterwards.",
        },
    ],
    tools=[SERVICE_STATUS],
)
add(
    "en_tool_ticket",
    [
        {"role": "system", "content": EN},
        {
            "role": "user",
            "content": "The desktop app crashes whenever I open a folder with more than about 10,000 photos. Can you "
            "report it?",
        },
        call(
            "call_4kP0",
            "create_ticket",
            {
                "category": "bug",
                "summary": "Desktop app crashes when opening a folder with ~10k photos",
                "priority": "normal",
            },
        ),
        result("call_4kP0", {"ticket_id": "NW-48213", "status": "open"}),
        {
            "role": "assistant",
            "content": "I've reported it to our engineering team as ticket NW-48213, and you'll get an email when "
            "there's an update. Until it's fixed, browsing that folder in the web app or splitting it into smaller "
            "folders should avoid the crash. Let me know if you need anything else.",
        },
    ],
    tools=[CREATE_TICKET],
)
add(
    "zh_tool_refund_status",
    [
        {"role": "system", "content": ZH},
        {"role": "user", "content": "帮我查一下退款到哪一步了，订单号 NW20240518-3371"},
        call("call_b93T", "get_refund_status", {"order_id": "NW20240518-3371"}),
        result(
            "call_b93T",
            {
                "status": "processing",
                "amount": "68.00 CNY",
                "channel": "alipay",
                "submitted_at": "2024-05-20",
                "expected_by": "2024-05-23",
            },
        ),
        {
            "role": "assistant",
            "content": "您的订单 NW20240518-3371 的退款（68 元）正在处理中，将原路退回您的支付宝账户，预计 5 月 23 日前到账。"
            "如到期仍未收到，请随时联系我们。",
        },
    ],
    tools=[REFUND_STATUS],
)

# ---------------------------------------------------------------------------------------------
# Exact duplicates: verbatim copies (8 groups: six pairs, one triple, one quadruple).
# ---------------------------------------------------------------------------------------------

dup("en_payment_methods__copy", "en_payment_methods")
dup("en_dark_mode__copy", "en_dark_mode")
dup("en_linux_client__copy1", "en_linux_client")
dup("en_linux_client__copy2", "en_linux_client")
dup("en_student_discount__copy", "en_student_discount")
dup("en_tool_outage__copy", "en_tool_outage")
dup("zh_invoice__copy", "zh_invoice")
dup("zh_payment_methods__copy1", "zh_payment_methods")
dup("zh_payment_methods__copy2", "zh_payment_methods")
dup("zh_payment_methods__copy3", "zh_payment_methods")
dup("zh_qr_login__copy", "zh_qr_login")

# ---------------------------------------------------------------------------------------------
# Exact after normalisation only: whitespace, case, full-width characters.
# ---------------------------------------------------------------------------------------------

_VIP = (
    "您说的 VIP 会员应该是指专业版，提供 2 TB 存储空间，单个文件最大 50 GB，并保留 180 天历史版本。如还有其他问题，"
    "欢迎随时联系我们。"
)
zh("zh_vip_fullwidth", "ＶＩＰ会员有多大空间？", _VIP)
zh("zh_vip_halfwidth", "VIP会员有多大空间？", _VIP)
EXACT_NORMALISED.append(["zh_vip_fullwidth", "zh_vip_halfwidth"])

_DELETE_NO_PW = (
    "需要先通过登录页的“忘记密码”重置密码并登录，然后在 设置 → 账号与安全 → 注销账号 中提交申请。提交后有 14 天的"
    "冷静期，期间登录即可撤销。如还有其他问题，欢迎随时联系我们。"
)
zh("zh_delete_forgot_pw_space", "我想注销账号，但是忘了密码 ", _DELETE_NO_PW)
zh("zh_delete_forgot_pw", "我想注销账号，但是忘了密码", _DELETE_NO_PW)
EXACT_NORMALISED.append(["zh_delete_forgot_pw_space", "zh_delete_forgot_pw"])

_VERSION_NUMBER = (
    "Click the Northwind icon in your menu bar or system tray, open the menu and choose About Northwind; the "
    "version number is shown at the top of that window. Let me know if you need anything else."
)
qa("en_version_number", "Where can I find the version number of the desktop app?", _VERSION_NUMBER)
qa("en_version_number_caps", "where can I find the VERSION NUMBER of the desktop app?", _VERSION_NUMBER)
EXACT_NORMALISED.append(["en_version_number", "en_version_number_caps"])

qa(
    "en_pause_sync",
    "Can I pause syncing for a few hours?",
    "Yes. Click the Northwind icon in the tray and choose Pause syncing, then pick 1 hour, 8 hours or until "
    "tomorrow. Syncing resumes automatically after that, or you can resume it yourself at any time. Let me know "
    "if you need anything else.",
)
qa(
    "en_pause_sync_spaces",
    "Can I pause  syncing for a few hours? ",
    "Yes.  Click the Northwind icon in the tray and choose Pause syncing, then pick 1 hour, 8 hours or until "
    "tomorrow.\n\nSyncing resumes automatically after that, or you can resume it yourself at any time.\nLet me "
    "know if you need anything else.",
)
EXACT_NORMALISED.append(["en_pause_sync", "en_pause_sync_spaces"])

zh(
    "zh_pro_versions",
    "专业版的历史版本保留多少天？",
    "专业版和团队版保留 180 天的历史版本，免费版保留 30 天。在文件上右键选择 历史版本 即可查看和还原。"
    "如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_pro_versions_fullwidth",
    "专业版的历史版本保留多少天?",
    "专业版和团队版保留 １８０ 天的历史版本，免费版保留 ３０ 天。在文件上右键选择 历史版本 即可查看和还原。"
    "如还有其他问题，欢迎随时联系我们。",
)
EXACT_NORMALISED.append(["zh_pro_versions", "zh_pro_versions_fullwidth"])

# ---------------------------------------------------------------------------------------------
# Lexical near-duplicates: a few words, a typo, punctuation or sentence order apart.
# ---------------------------------------------------------------------------------------------

qa(
    "lex_change_email_a",
    "How do I change the email address on my account?",
    "Go to Settings > Account, click Change next to your email address, and enter the new one. We'll send a "
    "confirmation link to the new address, and the change takes effect once you click it. Let me know if you "
    "need anything else.",
)
qa(
    "lex_change_email_b",
    "How can I change the email address on my account?",
    "Open Settings > Account, click Change next to your email address and enter the new one. We'll send a "
    "confirmation link to the new address, and the change takes effect as soon as you click it. Let me know if "
    "you need anything else.",
)
LEXICAL.append(("lex_change_email_a", "lex_change_email_b"))

qa(
    "lex_indexing_a",
    'Why is the desktop app stuck on "Indexing files"?',
    "Indexing runs after installation or after you add a large folder, and it can take a while for tens of "
    "thousands of files. If it hasn't moved for more than an hour, quit the app from the tray icon and open it "
    "again; indexing resumes where it stopped. Let me know if it stays stuck.",
)
qa(
    "lex_indexing_b",
    'why is the destkop app stuck on "indexing files"??',
    "Indexing runs after installing or after you add a large folder, and it can take a while with tens of "
    "thousands of files. If it hasn't moved in more than an hour, quit the app from the tray icon and open it "
    "again; indexing resumes where it stopped. Let me know if it stays stuck.",
    system=None,
)
LEXICAL.append(("lex_indexing_a", "lex_indexing_b"))

qa(
    "lex_owner_deleted_a",
    "Can I recover a shared folder that the owner deleted?",
    "If the owner deleted the folder, only they can restore it from their Trash within 30 days. Any files you "
    "had synced locally are still on your computer, so you can copy them somewhere safe. Let me know if there's "
    "anything else I can do.",
)
qa(
    "lex_owner_deleted_b",
    "Can I recover a shared folder that the owner deleted?",
    "Any files you had synced locally are still on your computer, so you can copy them somewhere safe. If the "
    "owner deleted the folder, only they can restore it from their Trash within 30 days. Let me know if there's "
    "anything else I can do.",
)
LEXICAL.append(("lex_owner_deleted_a", "lex_owner_deleted_b"))

qa(
    "lex_invoice_last_month_a",
    "Hi, can I get an invoice for last month? Thanks",
    "You can download it any time from Settings > Billing > Invoices, where each month has a PDF link. If you "
    "need it addressed to a company, add the details under Billing details first. Anything else I can help with?",
    system=NORA,
)
qa(
    "lex_invoice_last_month_b",
    "hi can i get an invoice for last month",
    "You can download it any time from Settings > Billing > Invoices, where each month has its own PDF link. If "
    "you need it addressed to a company, add the details under Billing details first. Anything else I can help "
    "with?",
    system=NORA,
)
LEXICAL.append(("lex_invoice_last_month_a", "lex_invoice_last_month_b"))

qa(
    "lex_mobile_data_a",
    "How do I stop Northwind from syncing over mobile data?",
    'In the mobile app, open Settings > Uploads and turn off "Use mobile data"; camera uploads and offline files '
    "will then wait for Wi-Fi. Let me know if you need anything else.",
)
qa(
    "lex_mobile_data_b",
    "How do I stop Northwind from using my mobile data?",
    'In the mobile app, go to Settings > Uploads and switch off "Use mobile data"; camera uploads and offline '
    "files will then wait until you're on Wi-Fi. Let me know if you need anything else.",
)
LEXICAL.append(("lex_mobile_data_a", "lex_mobile_data_b"))

zh(
    "lex_zh_new_pc_code_a",
    "为什么我在新电脑上登录需要验证码？",
    "为了保护您的账号安全，在新设备或新地点首次登录时，我们会向您绑定的手机号发送验证码。验证通过后，这台设备会被"
    "记住，之后登录就不需要再验证了。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "lex_zh_new_pc_code_b",
    "为什么我在新电脑上登陆要验证码",
    "为了保护您的账号安全，在新设备或新地点首次登录时，我们会向您绑定的手机号发送验证码。验证通过后该设备会被记住，"
    "以后登录就不用再验证了。如还有其他问题，欢迎随时联系我们。",
)
LEXICAL.append(("lex_zh_new_pc_code_a", "lex_zh_new_pc_code_b"))

zh(
    "lex_zh_autorenew_a",
    "如何关闭自动续费？",
    "您可以在 App 的 我的 → 会员中心 → 管理自动续费 中关闭；如果是通过支付宝或微信开通的，也可以在对应的支付 App "
    "里解除代扣。关闭后，当前会员会持续到到期日。还有其他问题可以随时问我。",
)
zh(
    "lex_zh_autorenew_b",
    "怎么关闭自动续费？",
    "您可以在 App 的 我的 → 会员中心 → 管理自动续费 中关闭；如果是通过支付宝或微信开通的，也可以在对应支付 App "
    "中解除代扣。关闭以后，当前会员会持续到到期日。还有其他问题可以随时问我。",
)
LEXICAL.append(("lex_zh_autorenew_a", "lex_zh_autorenew_b"))

zh(
    "lex_zh_shared_deleted_a",
    "共享文件夹里的文件被别人删了怎么办？",
    "共享文件夹中被删除的文件会进入删除者的回收站，您可以请对方在回收站中恢复。如果您是文件夹的所有者，也可以在"
    "文件夹的 操作记录 中找到删除记录并直接恢复。如需进一步帮助，请随时告诉我。",
)
zh(
    "lex_zh_shared_deleted_b",
    "共享文件夹里的文件被别人删了怎么办？",
    "如果您是文件夹的所有者，可以在文件夹的 操作记录 中找到删除记录并直接恢复。另外，共享文件夹中被删除的文件会"
    "进入删除者的回收站，也可以请对方在回收站中恢复。如需进一步帮助，请随时告诉我。",
)
LEXICAL.append(("lex_zh_shared_deleted_a", "lex_zh_shared_deleted_b"))

# ---------------------------------------------------------------------------------------------
# Semantic near-duplicates: the same question and answer, paraphrased on both sides.
# ---------------------------------------------------------------------------------------------

qa(
    "sem_free_storage_a",
    "How much storage do I get on the free plan?",
    "The Free plan includes 5 GB of storage and works on up to 3 devices. If you need more, Plus gives you "
    "200 GB for $4.99 a month. Let me know if you'd like help choosing.",
)
qa(
    "sem_free_storage_b",
    "What's the space limit if I don't pay for anything?",
    "Without a subscription you get 5 GB, which you can use on as many as three devices. Upgrading to Plus "
    "raises that to 200 GB at $4.99 per month. Happy to help you compare plans.",
    system=None,
)
SEMANTIC.append(("sem_free_storage_a", "sem_free_storage_b"))

qa(
    "sem_restore_deleted_a",
    "How do I get back a file I deleted by accident?",
    "Deleted files stay in the Trash for 30 days. Open Trash in the web app's left sidebar, select the file and "
    "click Restore, and it will go back to its original folder. Let me know if you can't find it there.",
)
qa(
    "sem_restore_deleted_b",
    "I removed a document by mistake. Is there any way to undo that?",
    "Yes: anything you delete is kept for a month. In the web app, go to the Trash section on the left, pick "
    "the document and choose Restore; it reappears where it was before. Tell me if it isn't in the Trash and "
    "I'll look further.",
)
SEMANTIC.append(("sem_restore_deleted_a", "sem_restore_deleted_b"))

qa(
    "sem_devices_a",
    "Can I use Northwind on more than one computer?",
    "Yes. Paid plans work on unlimited devices, and the Free plan allows up to three devices in total, counting "
    "phones and computers. Just install the app and sign in on each one. Let me know if you need anything else.",
)
qa(
    "sem_devices_b",
    "Is there a cap on how many machines I can sync with?",
    "Only on the Free plan, which lets you connect three devices, computers and phones together; Plus, Pro and "
    "Team have no device limit. Sign in on a new device and it starts syncing automatically. Anything else I "
    "can help with?",
    system=NORA,
)
SEMANTIC.append(("sem_devices_a", "sem_devices_b"))

qa(
    "sem_startup_a",
    "How do I stop the app from launching when my computer starts?",
    'Open the desktop app\'s Preferences, go to General and untick "Start Northwind on system startup". Keep in '
    "mind your files won't sync until you open the app yourself. Let me know if you need anything else.",
)
qa(
    "sem_startup_b",
    "Northwind opens every time I log in to Windows. Can I turn that off?",
    "Yes, there's a checkbox for it under the General tab of Preferences. Once it's cleared, the app stays "
    "closed at login, and syncing only happens while you have it open. Happy to help with anything else.",
)
SEMANTIC.append(("sem_startup_a", "sem_startup_b"))

qa(
    "sem_encryption_a",
    "Are my files encrypted?",
    "Yes. Files are encrypted with AES-256 while stored on our servers and with TLS whenever they travel "
    "between your devices and Northwind. Let me know if you'd like more detail on our security practices.",
)
qa(
    "sem_encryption_b",
    "Do you protect stored data, and is it safe while it uploads?",
    "Everything you keep with us is protected at rest using 256-bit AES, and every transfer to and from our "
    "servers goes over an encrypted connection. I can point you to our security whitepaper if that would help.",
)
SEMANTIC.append(("sem_encryption_a", "sem_encryption_b"))

zh(
    "sem_zh_usage_a",
    "如何查看我的存储空间用了多少？",
    "您可以在网页版或 App 的 设置 → 存储空间 中查看已用容量和剩余容量，页面还会按照文件类型显示占用情况。"
    "如还有其他问题，欢迎随时联系我们。",
)
zh(
    "sem_zh_usage_b",
    "我想知道云盘还剩多少容量，在哪里看？",
    "打开设置里的“存储空间”页面就能看到：上面会显示总容量、已经使用的部分，以及图片、视频、文档等各类文件分别占了"
    "多少。有其他疑问随时告诉我。",
)
SEMANTIC.append(("sem_zh_usage_a", "sem_zh_usage_b"))

zh(
    "sem_zh_link_password_a",
    "分享链接可以设置密码吗？",
    "可以。专业版和团队版用户在创建分享链接时，可以开启 提取码 并设置有效期，对方需要输入提取码才能查看。免费版暂不"
    "支持为链接设置密码。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "sem_zh_link_password_b",
    "发给别人的链接能不能加个提取码，防止被乱传？",
    "这个功能面向专业版和团队版：生成链接时打开“提取码”开关，还能同时设定失效时间，没有提取码的人就打不开。"
    "免费账号目前没有这个选项。需要其他帮助请随时告诉我。",
)
SEMANTIC.append(("sem_zh_link_password_a", "sem_zh_link_password_b"))

zh(
    "sem_zh_new_phone_a",
    "换了新手机，怎么把账号登录上去？",
    "在新手机上下载北风云盘 App，用原来的手机号或邮箱加密码登录即可；如果手机号也换了，可以选择邮箱登录，或在旧设备"
    "上扫码登录。您的文件都保存在云端，不会丢失。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "sem_zh_new_phone_b",
    "我更换了设备，如何在新的手机上继续使用北风云盘？",
    "请先在新设备上安装应用，然后使用您的账号和密码登录。若原号码已停用，可改用邮件地址登录，或拿旧设备扫描二维码"
    "完成登录。所有资料都存放在云端，更换设备不会有影响。有其他问题欢迎再联系我们。",
)
SEMANTIC.append(("sem_zh_new_phone_a", "sem_zh_new_phone_b"))

# ---------------------------------------------------------------------------------------------
# Hard negatives: look alike, mean different things.
# ---------------------------------------------------------------------------------------------

qa(
    "hn_cancel_subscription",
    "How do I cancel my subscription?",
    "Go to Settings > Billing and click Cancel plan. You'll keep your paid features until the end of the "
    "current billing period, and then the account moves to the Free plan; none of your files are deleted. Let "
    "me know if you need anything else.",
)
qa(
    "hn_cancel_deletion",
    "How do I cancel my account deletion?",
    'If you requested deletion less than 14 days ago, just sign in and click "Cancel deletion" on the banner at '
    "the top of the page; your account and files come back exactly as they were. After 14 days the deletion is "
    "permanent. Let me know if you need help signing in.",
)
HARD_NEGATIVES.append(("hn_cancel_subscription", "hn_cancel_deletion"))

qa(
    "hn_upgrade",
    "How do I upgrade my plan?",
    "Go to Settings > Billing > Change plan and pick the plan you want. Upgrades take effect immediately, and "
    "you're only charged the prorated difference for the rest of your billing period. Let me know if you'd like "
    "help choosing.",
)
qa(
    "hn_downgrade",
    "How do I downgrade my plan?",
    "Go to Settings > Billing > Change plan and choose the smaller plan. A downgrade takes effect at your next "
    "renewal date, so you keep your current storage and features until then; if you're using more than the new "
    "plan allows, the account becomes read-only until you free up space. Anything else I can help with?",
)
HARD_NEGATIVES.append(("hn_upgrade", "hn_downgrade"))

qa(
    "hn_2fa_on",
    "How do I turn on two-step verification?",
    "Go to Settings > Security > Two-step verification and click Turn on. You can use an authenticator app or "
    "SMS, and we recommend an app. Save the backup codes somewhere safe in case you lose your phone. Let me know "
    "if you need anything else.",
)
qa(
    "hn_2fa_off",
    "How do I turn off two-step verification?",
    "Go to Settings > Security > Two-step verification and click Turn off; you'll need to confirm with your "
    "password and a current code. We don't recommend leaving it off, especially on accounts with shared "
    "folders. If you've lost your codes, let me know and I'll explain the recovery process.",
)
HARD_NEGATIVES.append(("hn_2fa_on", "hn_2fa_off"))

qa(
    "hn_not_uploading",
    "My files aren't uploading from my laptop.",
    "Check the desktop app's status icon first: if it says Paused, click Resume. Otherwise, make sure the files "
    "aren't open in another program, since locked files wait until they're closed, and that you still have free "
    "storage in Settings > Storage. Let me know what the status icon shows if it's still stuck.",
)
qa(
    "hn_not_downloading",
    "My files aren't downloading to my laptop.",
    "If files appear in the web app but not on your laptop, the folder may be excluded by selective sync: open "
    "Preferences > Sync > Choose folders and tick it. Also check that your laptop's disk has enough free space, "
    "because downloads pause when it's nearly full. Let me know if that doesn't do it.",
)
HARD_NEGATIVES.append(("hn_not_uploading", "hn_not_downloading"))

qa(
    "hn_files_delete_account",
    "What happens to my files if I delete my account?",
    "They're permanently deleted 14 days after you confirm, along with your shared links and version history; "
    "until then you can cancel the deletion and everything comes back. We recommend exporting your data first "
    "from Settings > Privacy > Export my data. Let me know if you need anything else.",
)
qa(
    "hn_files_cancel_subscription",
    "What happens to my files if I cancel my subscription?",
    "Nothing is deleted. When the paid period ends the account switches to the Free plan; if you're storing more "
    "than 5 GB it becomes read-only, so you can still view, download and delete files but not upload new ones "
    "until you're under the limit. Let me know if you need anything else.",
)
HARD_NEGATIVES.append(("hn_files_delete_account", "hn_files_cancel_subscription"))

# The 退款 half of this pair is also a member of the Chinese refund cluster below.
zh(
    "hn_zh_return_goods",
    "在哪里申请退货？",
    "如果您购买的是北风家庭备份盒等硬件产品，可以在官方商城的 我的订单 中找到该订单，点击 申请退货。签收后 15 天内、"
    "包装和配件齐全即可办理。会员等线上服务不涉及退货。如还有其他问题，欢迎随时联系我们。",
)
HARD_NEGATIVES.append(("zh_refund_where", "hn_zh_return_goods"))

zh(
    "hn_zh_add_member",
    "团队版怎么添加成员？",
    "管理员登录后进入 管理后台 → 成员管理，点击 邀请成员，输入对方的邮箱或手机号即可发送邀请；对方接受后会自动加入"
    "团队，并按人数计费。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "hn_zh_remove_member",
    "团队版怎么移除成员？",
    "管理员可在 管理后台 → 成员管理 中找到该成员，点击 移除。移除前系统会提示您把对方的文件转移给其他成员，未转移的"
    "文件会保留 30 天。从下一个账单周期起将不再为该成员计费。如还有其他问题，欢迎随时联系我们。",
)
HARD_NEGATIVES.append(("hn_zh_add_member", "hn_zh_remove_member"))

zh(
    "hn_zh_wrong_password",
    "登录时一直提示“密码错误”，怎么办？",
    "请先确认大小写和输入法状态是否正确，以及使用的是否为注册时的手机号或邮箱。确认无误仍然提示密码错误的话，可以通过"
    "“忘记密码”重置。连续输错 5 次，账号会被临时锁定 30 分钟。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "hn_zh_wrong_code",
    "登录时一直提示“验证码错误”，怎么办？",
    "短信验证码 5 分钟内有效，并且只有最新的一条有效，请确认输入的是最近收到的那条。多次失败的话，可以等 1 分钟后"
    "重新获取，或改用邮箱验证。如还有其他问题，欢迎随时联系我们。",
)
HARD_NEGATIVES.append(("hn_zh_wrong_password", "hn_zh_wrong_code"))

# ---------------------------------------------------------------------------------------------
# Style clusters: similar questions answered in the house style, each with one or two drifters.
# ---------------------------------------------------------------------------------------------


def cluster(name: str, *keys: str) -> None:
    CLUSTERS[name] = list(keys)


def drift(key: str, name: str, *features: str) -> None:
    DRIFT.append((key, name, list(features)))


qa(
    "pw_forgot",
    "I forgot my password. How do I reset it?",
    'Click "Forgot password?" on the sign-in page, enter the email address on your account, and follow the link '
    "we send you to choose a new password. The link is valid for 60 minutes. Let me know if you run into any "
    "trouble.",
)
qa(
    "pw_link_expired",
    "The password reset link says it has expired. What now?",
    'Reset links work for 60 minutes and only once, so just request a fresh one from the "Forgot password?" page '
    "and use the newest email. If the new link fails too, let me know and I'll look into it.",
)
qa(
    "pw_no_email",
    "I'm not receiving the password reset email.",
    "Please check your spam and promotions folders, and make sure you entered the same address you signed up "
    "with; the email comes from no-reply@northwind.example. If nothing arrives within 10 minutes, let me know and "
    "I can send it again manually.",
)
qa(
    "pw_iphone",
    "Can I reset my password from the iPhone app?",
    "Yes, tap \"Forgot password?\" on the app's sign-in screen and we'll send the same reset email as on the web; "
    "the link opens in your browser. Let me know if you need anything else.",
)
qa(
    "pw_desktop_old",
    "I changed my password but the desktop app keeps asking for the old one.",
    "After a password change the desktop app needs a fresh sign-in: click the Northwind icon in the menu bar or "
    "system tray, choose Sign out, then sign back in with the new password. Your synced files stay where they "
    "are. Feel free to reach out if it keeps prompting you.",
)
qa(
    "pw_change_signed_in",
    "How do I change my password while I'm signed in?",
    "To change your password:\n"
    "- Open Settings\n"
    "- Go to Security\n"
    '- Click "Change password"\n'
    "- Enter your current password, then the new one twice\n"
    "- Click Save\n"
    "Let me know if you need anything else.",
)
qa(
    "pw_old_address",
    "My password reset email goes to an old work address I can't access anymore.",
    "I'm so sorry you're dealing with this. Being locked out of your own account is really stressful, and I "
    "completely understand how frustrating it is to watch the reset email go somewhere you can't reach. Because "
    "we can only "
    "send reset links to the address on file, our account recovery team first needs to confirm that the account "
    "is yours. Go to northwind.example/recover and fill in the form with as much detail as you can: the old "
    "address, roughly when you created the account, the names of a few folders you keep in it and, if you pay "
    "for a plan, the last four digits of your card. The team usually replies within two business days and will "
    "then update the address so you can reset your password as normal. Again, I'm really sorry for the hassle, "
    "and please let me know if there's anything else at all I can do in the meantime.",
)
qa(
    "pw_signs_out",
    "Does resetting my password sign me out of my other devices?",
    "Yes, a password reset signs you out everywhere, including the desktop and mobile apps, so you'll need to "
    "sign in with the new password on each device. Let me know if you have any other questions.",
)
cluster(
    "en_password",
    "pw_forgot",
    "pw_link_expired",
    "pw_no_email",
    "pw_iphone",
    "pw_desktop_old",
    "pw_change_signed_in",
    "pw_old_address",
    "pw_signs_out",
)
drift("pw_change_signed_in", "en_password", "bullet_list")
drift("pw_old_address", "en_password", "apology_opening", "longer")

qa(
    "refund_wrong_plan",
    "I was charged for the annual plan yesterday but I meant to pick monthly. Can I get my money back?",
    "Yes, any charge can be refunded in full within 30 days, so you're well within the window. Switch to monthly "
    "in Settings > Billing, then reply here and we'll refund the annual charge to your original payment method. "
    "Happy to help with anything else.",
)
qa(
    "refund_how_long",
    "How long does a refund take to show up on my card?",
    "Refunds are sent as soon as they're approved, and most banks show them within 5 to 10 business days; "
    "PayPal refunds usually appear within a day. If yours hasn't arrived after 10 business days, let us know and "
    "we'll send you the transaction reference.",
)
qa(
    "refund_partial",
    "Can I get a partial refund if I cancel halfway through the year?",
    "We don't offer prorated refunds after the 30-day window, but when you cancel you keep your paid features "
    "until the end of the period you've paid for. If you're still within 30 days of the charge, we can refund it "
    "in full. Let me know if you'd like me to check the date for you.",
)
qa(
    "refund_trial",
    "My free trial turned into a paid plan and I forgot to cancel. Can I get a refund?",
    "Yes, if the charge was within the last 30 days we can refund it in full. Cancel the plan in Settings > "
    "Billing and reply with the email address on the account, and your files will stay safe on the Free plan. "
    "Let me know if there's anything else I can do.",
)
qa(
    "refund_team_members",
    "Do you refund the Team plan if we remove some members?",
    "Sure! 😊 Great question! When you remove members from a Team plan, we automatically credit the unused time "
    "to your next invoice! 🎉 If you'd rather have the money back on your card, just ask within 30 days of the "
    "charge and we'll refund it! Let me know if you need anything else! 🙌",
)
qa(
    "refund_where",
    "Where do I request a refund?",
    'Go to Settings > Billing > Payment history, choose the charge and click "Request refund", or simply reply '
    "to your receipt email. Requests within 30 days of the charge are approved automatically. Let me know if you "
    "need anything else.",
)
qa(
    "refund_double_charge",
    "I was charged twice this month. Can you refund the extra payment?",
    "Duplicate charges are always refunded in full, whatever the date. Please send me the last four digits of "
    "the card and the dates of both charges, and I'll reverse the extra one right away. Anything else I can help "
    "with in the meantime?",
)
cluster(
    "en_refund",
    "refund_wrong_plan",
    "refund_how_long",
    "refund_partial",
    "refund_trial",
    "refund_team_members",
    "refund_where",
    "refund_double_charge",
)
drift("refund_team_members", "en_refund", "preamble", "exclamation", "emoji")

qa(
    "sync_preparing",
    'Sync has been stuck on "Preparing to sync" for hours.',
    "That usually means the app is still scanning a large folder or waiting on a file that's open somewhere "
    "else. Quit the app from the tray icon and reopen it; if it sticks again, Preferences > Account > Rebuild "
    "index makes it scan afresh without downloading anything again. Let me know if it's still stuck after that.",
)
qa(
    "sync_conflicted",
    'Why are there files named "(conflicted copy)" in my folder?',
    "A conflicted copy appears when the same file was changed on two devices before either change could sync, so "
    "Northwind keeps both instead of overwriting one. Compare the two, keep the changes you need in the original "
    "and delete the copy. Let me know if they keep appearing.",
)
qa(
    "sync_paused",
    'The desktop app says "Sync paused" but I didn\'t pause it.',
    "The app pauses itself when your laptop is in battery saver mode or on a metered connection. Click Resume in "
    'the app menu, or turn off "Pause on metered networks" in Preferences > Network if you\'d rather it always '
    "syncs. Happy to help with anything else.",
)
qa(
    "sync_mac_folders",
    "Some folders on my Mac never sync. How do I fix this?",
    "## Why some folders don't sync\n\n"
    "There are a few common reasons a folder on macOS might not sync, so it's worth checking each of them in "
    "turn.\n\n"
    "### 1. Selective sync\n"
    "- Open **Preferences > Sync > Choose folders**.\n"
    "- Make sure the folder is ticked; unticked folders are skipped on this Mac.\n\n"
    "### 2. The folder is outside your Northwind folder\n"
    "- Only items inside ~/Northwind, or folders you added under **Backups**, are synced.\n"
    "- Symbolic links and aliases that point elsewhere are not followed.\n\n"
    "### 3. macOS permissions\n"
    "- Go to **System Settings > Privacy & Security > Full Disk Access**.\n"
    "- Make sure **Northwind** is switched on, then restart the app.\n\n"
    "### 4. Unsupported names\n"
    "- Files or folders whose names end with a space or a period, or contain a colon, are skipped.\n"
    "- Rename them and they will sync within a minute.\n\n"
    "### 5. Still stuck?\n"
    "- Use **Preferences > Account > Rebuild index**.\n"
    "- If that doesn't help, send us the file from **Help > Export diagnostics**.\n\n"
    "Let me know if you need anything else.",
)
qa(
    "sync_asleep",
    "Does Northwind keep syncing while my computer is asleep?",
    "No, syncing stops while the computer sleeps and picks up again a few seconds after it wakes. If you need a "
    "large upload to finish overnight, change your power settings so the computer stays awake while it's plugged "
    "in. Let me know if you have any other questions.",
)
qa(
    "sync_choose_folders",
    "Can I choose which folders sync to my work laptop?",
    "Yes, open Preferences > Sync > Choose folders on that laptop and untick anything you don't want there; those "
    "folders stay in your account and on your other devices. Let me know if you need anything else.",
)
qa(
    "sync_phone_edit",
    "A file I edited on my phone still shows the old version on my PC.",
    "Edits made in the mobile app upload as soon as the phone is online, so first check that the file isn't "
    "waiting in the app's Uploads list. If it has uploaded, the PC app may be paused or excluding that folder, "
    "and clicking the tray icon shows which. Let me know what you find.",
)
cluster(
    "en_sync",
    "sync_preparing",
    "sync_conflicted",
    "sync_paused",
    "sync_mac_folders",
    "sync_asleep",
    "sync_choose_folders",
    "sync_phone_edit",
)
drift("sync_mac_folders", "en_sync", "heading", "bullet_list", "longer")

zh(
    "zh_pw_forgot",
    "忘记密码了，怎么重置？",
    "您可以在登录页点击“忘记密码”，输入注册时使用的手机号或邮箱，然后按照收到的验证码或链接设置新密码。重置链接 60 "
    "分钟内有效。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_pw_no_sms",
    "重置密码的短信验证码一直收不到怎么办？",
    "请先确认手机号填写正确、手机没有开启短信拦截，并等待 1 分钟后再重新获取。如果仍然收不到，您也可以在重置页面选择"
    "“通过邮箱重置”。如需进一步帮助，请随时告诉我。",
)
zh(
    "zh_pw_link_expired",
    "重置密码的链接打开后显示已失效，怎么回事？",
    "链接只有 60 分钟有效，而且只能用一次。你回到登录页重新点一下“忘记密码”，用最新收到的那封邮件里的链接就行。"
    "你还有其他问题的话随时问我。",
)
zh(
    "zh_pw_relogin",
    "修改密码后，电脑客户端需要重新登录吗？",
    "需要。修改密码后，所有设备都会自动退出登录，您在电脑客户端上用新密码重新登录即可，本地已同步的文件不会受影响。"
    "如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_pw_change",
    "登录状态下怎么修改密码？",
    "您可以进入 设置 → 账号与安全 → 修改密码，先输入当前密码，再输入两次新密码并保存。修改成功后，其他设备需要重新"
    "登录。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_pw_locked",
    "密码输错太多次，账号被锁住了怎么办？",
    "连续输错 5 次密码后，账号会被临时锁定 30 分钟，到时间后会自动解锁。如果您不记得密码，建议直接通过登录页的"
    "“忘记密码”重置，重置成功后会立即解锁。希望对您有帮助。",
)
zh(
    "zh_pw_old_email",
    "注册时用的邮箱已经不用了，还能找回密码吗？",
    "可以。如果您的账号绑定了手机号，可以在“忘记密码”页面选择手机验证码重置；如果也没有绑定手机号，请通过 "
    "northwind.example/recover 提交账号申诉，我们会在 2 个工作日内联系您。如需进一步帮助，请随时告诉我。",
)
cluster(
    "zh_password",
    "zh_pw_forgot",
    "zh_pw_no_sms",
    "zh_pw_link_expired",
    "zh_pw_relogin",
    "zh_pw_change",
    "zh_pw_locked",
    "zh_pw_old_email",
)
drift("zh_pw_link_expired", "zh_password", "informal_you")
drift("zh_pw_locked", "zh_password", "sign_off")

zh(
    "zh_refund_wrong_annual",
    "误购了年度会员，可以退款吗？",
    "可以。扣费后 30 天内申请均可全额退款。请在 设置 → 账单 → 付款记录 中找到这笔订单，点击“申请退款”即可，"
    "之后您可以重新购买月度会员。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_refund_arrival",
    "退款一般多久能到账？",
    "退款审核通过后会原路退回：支付宝和微信支付通常 1–3 个工作日到账，银行卡一般需要 5–10 个工作日。如超过时间仍未"
    "收到，请联系我们为您查询。",
)
zh(
    "zh_refund_autorenew",
    "自动续费扣款了，但我不想续了，能退吗？",
    "可以。自动续费扣款后 30 天内，您可以在 设置 → 账单 → 付款记录 中对该笔订单申请退款，并同时关闭自动续费，"
    "避免下次再扣费。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_refund_wechat",
    "用微信支付的订单，退款会退到哪里？",
    "当然！😊 微信支付的订单会原路退回到您的微信零钱或付款银行卡哦！一般 1–3 个工作日就能到账！🎉 有任何问题随时找我！",
)
zh(
    "zh_refund_where",
    "在哪里申请退款？",
    "您可以在 设置 → 账单 → 付款记录 中选择对应订单，点击“申请退款”并填写原因；扣费 30 天内的申请会自动通过。"
    "如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_refund_prorated",
    "会员用了一半，可以按剩余天数退款吗？",
    "超过 30 天后，我们不提供按剩余天数折算的退款，不过取消后会员权益会保留到本期结束。如果扣费还在 30 天内，可以"
    "申请全额退款。如需进一步帮助，请随时告诉我。",
)
zh(
    "zh_refund_double",
    "同一个月被扣了两次费，怎么处理？",
    "重复扣费无论何时都会全额退还。请把两笔扣费的时间和付款方式（支付宝、微信或银行卡尾号）发给我们，我们会尽快撤销"
    "多扣的那一笔。如还有其他问题，欢迎随时联系我们。",
)
cluster(
    "zh_refund",
    "zh_refund_wrong_annual",
    "zh_refund_arrival",
    "zh_refund_autorenew",
    "zh_refund_wechat",
    "zh_refund_where",
    "zh_refund_prorated",
    "zh_refund_double",
)
drift("zh_refund_wechat", "zh_refund", "preamble", "emoji", "exclamation")

zh(
    "zh_export_how",
    "怎么导出我在北风云盘的全部数据？",
    "请进入 设置 → 隐私 → 导出我的数据，确认后我们会打包您的所有文件和账号信息，通常 48 小时内完成，完成后会发邮件"
    "通知您下载。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_export_contents",
    "导出的数据包里都有哪些内容？",
    "## 数据导出包含的内容\n\n"
    "导出完成后，您会收到一个 ZIP 压缩包，里面按类别整理了以下内容：\n\n"
    "### 文件\n"
    "- 您云盘中的全部文件和文件夹，保持原有的目录结构\n"
    "- 回收站中尚未彻底删除的文件（单独放在 Trash 文件夹中）\n\n"
    "### 账号信息\n"
    "- 个人资料：昵称、绑定的邮箱和手机号\n"
    "- 登录设备列表，以及最近 90 天的登录记录\n\n"
    "### 共享与协作\n"
    "- 您创建的分享链接及其有效期\n"
    "- 共享文件夹的成员和权限设置\n\n"
    "### 账单\n"
    "- 历史订单和发票记录\n\n"
    "**注意：** 其他用户共享给您、但不属于您的文件不会包含在导出包中。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_export_link_expired",
    "导出数据的下载链接过期了，怎么办？",
    "下载链接的有效期为 7 天，过期后您只需回到 设置 → 隐私 → 导出我的数据 重新申请一次，新的导出包同样会在 48 小时"
    "内准备好。如需进一步帮助，请随时告诉我。",
)
zh(
    "zh_delete_recover",
    "注销账号以后，数据还能恢复吗？",
    "提交注销后有 14 天冷静期，期间登录并点击“撤销注销”即可恢复全部数据；超过 14 天后，账号和所有文件将被永久删除，"
    "无法恢复。建议注销前先导出数据。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_delete_undo",
    "提交注销申请后后悔了，还能撤销吗？",
    "非常抱歉给您带来困扰。可以撤销的：在提交后的 14 天内，您只需正常登录，然后点击页面顶部的“撤销注销”，账号和文件"
    "就会全部恢复。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_delete_membership",
    "注销账号前需要先取消会员吗？",
    "建议先取消自动续费。注销申请提交后，自动续费会同时关闭，但当前周期已支付的费用不会自动退还；如果扣费还在 30 天内，"
    "可以先申请退款再注销。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "zh_export_duration",
    "导出数据需要多长时间？",
    "大多数账号会在几小时内完成，数据量很大时最长需要 48 小时。完成后我们会发送邮件，邮件中的下载链接 7 天内有效。"
    "如需进一步帮助，请随时告诉我。",
)
cluster(
    "zh_export_delete",
    "zh_export_how",
    "zh_export_contents",
    "zh_export_link_expired",
    "zh_delete_recover",
    "zh_delete_undo",
    "zh_delete_membership",
    "zh_export_duration",
)
drift("zh_export_contents", "zh_export_delete", "heading", "bullet_list", "longer")
drift("zh_delete_undo", "zh_export_delete", "apology_opening")

# ---------------------------------------------------------------------------------------------
# Contradictions: the same or nearly the same question, answers that cannot both be true.
# ---------------------------------------------------------------------------------------------

qa(
    "con_refund_window_30",
    "How long do I have to ask for a refund?",
    "You have 30 days from the date of any charge to ask for a full refund, and the quickest way is to reply to "
    "the receipt email for that payment. Let me know if you need anything else.",
)
qa(
    "con_refund_window_14",
    "How long do I have to ask for a refund?",
    "Refunds are available for 14 days after you're charged. After that we can't reverse the payment, but you "
    "can cancel so you aren't billed again. Happy to help with anything else.",
)
CONTRADICTIONS.append(("con_refund_window_30", "con_refund_window_14", "refund window 30 vs 14 days"))

qa(
    "con_free_sharing_yes",
    "Can I share folders on the free plan?",
    "Yes, free accounts can share folders and send links just like paid ones. Pro adds extras such as "
    "password-protected links and expiry dates. Let me know if you need anything else.",
)
qa(
    "con_free_sharing_no",
    "Is folder sharing available on the free plan?",
    "No, sharing folders requires a Pro subscription. On the Free plan you can store and sync your own files, "
    "but to invite others to a folder you'll need to upgrade. Let me know if you'd like help with that.",
)
CONTRADICTIONS.append(("con_free_sharing_yes", "con_free_sharing_no", "free plan folder sharing: yes vs requires Pro"))

qa(
    "con_phone_0142",
    "What's your support phone number?",
    "You can reach us at +1 800-555-0142, Monday to Friday from 8am to 8pm Eastern; phone support is included with "
    "Pro and Team plans. Let me know if you'd prefer a callback instead.",
)
qa(
    "con_phone_0199",
    "What's your support phone number?",
    "Our support line is +1 800-555-0199, open weekdays from 9am to 5pm Eastern. You can also email "
    "support@northwind.example at any time. Anything else I can help with?",
    system=NORA,
)
CONTRADICTIONS.append(("con_phone_0142", "con_phone_0199", "support phone 800-555-0142 vs 800-555-0199, and hours"))

qa(
    "con_pro_price_999",
    "How much is Pro per month?",
    "Pro is $9.99 a month, or $99 a year if you pay annually, and includes 2 TB of storage. Let me know if you'd "
    "like to compare it with the other plans.",
)
qa(
    "con_pro_price_1299",
    "How much does the Pro plan cost?",
    "The Pro plan costs $12.99 per month and comes with 2 TB of storage and unlimited devices. Happy to help you "
    "upgrade if you'd like.",
)
CONTRADICTIONS.append(("con_pro_price_999", "con_pro_price_1299", "Pro price $9.99 vs $12.99 a month"))

qa(
    "con_trial_extend_yes",
    "Can you extend my free trial by another week? I haven't had time to try it properly.",
    "Of course. I've extended your Pro trial by 7 days, so it now ends next Friday, and you won't be charged "
    "before then. Enjoy exploring, and let me know if you have questions.",
)
qa(
    "con_trial_extend_no",
    "Can you extend my free trial by another week? I haven't had time to try it properly.",
    "I'm afraid trials can't be extended; each account gets a single 14-day Pro trial. If you'd like more time to "
    "decide, you can subscribe monthly and cancel within 30 days for a full refund. Let me know if that would help.",
)
CONTRADICTIONS.append(("con_trial_extend_yes", "con_trial_extend_no", "trial extension: complies vs refuses"))

zh(
    "con_zh_refund_30",
    "购买会员后多少天内可以申请退款？",
    "扣费后 30 天内都可以申请全额退款，您可以在 设置 → 账单 → 付款记录 中提交申请。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "con_zh_refund_7",
    "购买会员后多少天内可以申请退款？",
    "会员购买后 7 天内可以申请退款，超过 7 天就无法退款了，请您留意时间。如需进一步帮助，请随时告诉我。",
)
CONTRADICTIONS.append(("con_zh_refund_30", "con_zh_refund_7", "退款期限 30 天 vs 7 天"))

zh(
    "con_zh_pro_68",
    "专业版一个月多少钱？",
    "专业版月付 68 元，年付 648 元，包含 2 TB 空间和 180 天历史版本。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "con_zh_pro_98",
    "专业版的月费是多少？",
    "专业版每月 98 元，提供 2 TB 存储空间，支持不限设备登录。需要的话我可以告诉您如何升级。",
)
CONTRADICTIONS.append(("con_zh_pro_68", "con_zh_pro_98", "专业版月费 68 元 vs 98 元"))

zh(
    "con_zh_trash_30",
    "回收站里的文件会保留多久？",
    "删除的文件会在回收站保留 30 天，期间可以随时还原，30 天后将被自动彻底删除。如还有其他问题，欢迎随时联系我们。",
)
zh(
    "con_zh_trash_90",
    "回收站里的文件会保留多久？",
    "回收站中的文件会为您保留 90 天，超过 90 天后系统会自动清理。如需进一步帮助，请随时告诉我。",
    system=None,
)
CONTRADICTIONS.append(("con_zh_trash_30", "con_zh_trash_90", "回收站保留 30 天 vs 90 天"))

# ---------------------------------------------------------------------------------------------
# Noisy logs.
# ---------------------------------------------------------------------------------------------


def noisy(key: str, *flags: str) -> None:
    NOISY.append((key, list(flags)))


noisy(
    qa(
        "noisy_caps_double_charge",
        "YOU CHARGED ME TWICE THIS MONTH AND NOBODY IS ANSWERING MY EMAILS. FIX IT NOW OR I'M DISPUTING IT WITH MY "
        "BANK!!!",
        "I'm sorry about the double charge and the slow reply. Duplicate charges are always refunded in full: send me "
        "the last four digits of the card and I'll reverse the extra payment today, and you'll get a confirmation "
        "email as soon as it's done.",
    ),
    "emotional",
)
noisy(
    qa(
        "noisy_ugh_excel",
        "Sync keeps failing with error 409 every time I save in Excel.",
        "Ugh, that's so annoying!! Excel and sync are honestly the WORST combo 😤 Close Excel completely and it "
        "should upload after that.",
    ),
    "emotional",
    "informal",
)
noisy(
    zh(
        "noisy_zh_angry_user",
        "你们这什么破软件！！！同步又失败了！！！文件是不是全没了！！！",
        "非常理解您的着急，请先别担心：同步失败不会删除云端的文件。您可以先登录网页版确认文件是否都在，然后把客户端 "
        "帮助 → 导出诊断信息 生成的文件发给我们，我们会尽快帮您排查。",
    ),
    "emotional",
)
noisy(
    zh(
        "noisy_zh_emotional_agent",
        "电脑客户端老是闪退。",
        "天哪，这也太离谱了吧！！我要是你也得气死😭 你先卸载重装试试吧。",
    ),
    "emotional",
    "informal",
)
noisy(
    qa(
        "noisy_truncated_export",
        "How do I export all my data?",
        "To export your data, open Settings, go to Privacy and click Export my data. We'll email you when the "
        "archive is ready, which usually takes",
    ),
    "truncated",
)
noisy(
    zh(
        "noisy_zh_truncated_share",
        "怎么把文件夹共享给同事？",
        "在文件夹右侧点击 共享，输入同事的邮箱或手机号，并选择对方的权限（可查看或可编辑），然后",
    ),
    "truncated",
)
noisy(
    qa(
        "noisy_truncated_office",
        "Does Northwind work with Microsoft Office files?",
        "Yes, you can preview Word, Excel and PowerPoint files in the browser, and with Office for the web connected "
        "you can also edi",
        system=NORA,
    ),
    "truncated",
)
noisy(qa("noisy_empty_language", "Can I change the language of the web app?", ""), "empty_answer")
noisy(zh("noisy_zh_empty_logout", "怎么退出登录？", "\n"), "empty_answer")
noisy(qa("noisy_noinput", "<noinput>", "Hello! How can I help you with Northwind Cloud today?"), "placeholder")
noisy(zh("noisy_zh_noinput", "<noinput>", "您好，请问有什么可以帮您？"), "placeholder")
noisy(
    qa(
        "noisy_template_refund",
        "Has my refund gone through?",
        "Hi {{customer_name}}, your refund for order {{order_id}} was processed on {{refund_date}} and should appear "
        "on your statement within 5 to 10 business days. Let me know if you need anything else.",
    ),
    "template_field",
)
noisy(
    zh(
        "noisy_zh_template_ticket",
        "我的工单处理得怎么样了？",
        "尊敬的{{customer_name}}，您好！您的工单 {{ticket_id}} 已由技术团队处理完毕，请升级到 {{app_version}} 及以上"
        "版本查看效果。如还有其他问题，欢迎随时联系我们。",
    ),
    "template_field",
)
noisy(
    chat(
        "noisy_ends_on_user",
        EN,
        ("user", "My shared folder disappeared."),
        (
            "assistant",
            "Sorry to hear that. Was the folder shared with you by someone else, or is it one you own?",
        ),
        ("user", "someone else shared it, it was called Q3 Reports"),
    ),
    "ends_on_user",
)
noisy(
    chat(
        "noisy_zh_ends_on_user",
        ZH,
        ("user", "我想把团队版改成个人专业版"),
        ("assistant", "好的，请问您是团队的管理员吗？套餐变更需要由管理员操作。"),
        ("user", "是的，我是管理员"),
    ),
    "ends_on_user",
)
noisy(
    chat(
        "noisy_self_contradiction",
        EN,
        ("user", "Is version history included on the Free plan?"),
        ("assistant", "Yes, the Free plan keeps 30 days of version history for every file."),
        ("user", "Great, so I can restore last week's version of my CV?"),
        (
            "assistant",
            "Unfortunately version history isn't available on the Free plan, so you'd need to upgrade to Pro to "
            "restore older versions.",
        ),
    ),
    "self_contradiction",
)
noisy(
    chat(
        "noisy_zh_self_contradiction",
        ZH,
        ("user", "免费版能共享文件夹吗？"),
        ("assistant", "可以，免费版也可以共享文件夹给其他人。"),
        ("user", "那我应该怎么设置？"),
        ("assistant", "抱歉，共享文件夹功能仅对专业版开放，免费版无法使用。"),
    ),
    "self_contradiction",
)
noisy(
    qa(
        "noisy_lol_idk",
        "the app keeps saying 'couldn't connect' what do i do",
        "lol idk, try restarting it? usually works for me",
        system=None,
    ),
    "informal",
)
noisy(
    qa(
        "noisy_typos",
        "How do I add a secnd email to my acount?",
        "Yuo can't add a secnd email, but you can chnage the main one in Setings > Acount. let me kno if you need "
        "anyhting else",
    ),
    "informal",
)
noisy(zh("noisy_zh_haha", "分享链接打不开", "哈哈 这个我也不太清楚 你重启下试试呗～"), "informal")

# ---------------------------------------------------------------------------------------------
# Boundaries: where the behaviour stops.
# ---------------------------------------------------------------------------------------------


def boundary(key: str, move: str) -> None:
    BOUNDARY.append((key, move))


boundary(
    qa(
        "bnd_not_working",
        "It's not working.",
        "I'd like to help with that. Could you tell me a bit more: is it the desktop app, the mobile app or the "
        "website, and what happens when you try, an error message or just no syncing? Then I can point you in "
        "the right direction.",
    ),
    "clarify",
)
boundary(
    qa(
        "bnd_how_much",
        "How much does it cost?",
        "Happy to help. Which plan are you looking at, and is it for yourself or for a team? Prices differ between "
        "Plus, Pro and Team, and annual billing is cheaper, so I'd like to give you the right figure.",
        system=NORA,
    ),
    "clarify",
)
boundary(
    qa(
        "bnd_move_it",
        "Can you move it to the other one?",
        "Could you tell me which file or folder you mean, and what the other one is: another folder, or another "
        "Northwind account? I want to make sure I give you the right steps.",
    ),
    "clarify",
)
boundary(
    zh(
        "bnd_zh_cancel",
        "我要取消",
        "好的，请问您想取消的是哪一项：会员自动续费、已提交的账号注销申请，还是某个文件的共享？确认后我再告诉您具体步骤。",
    ),
    "clarify",
)
boundary(
    zh(
        "bnd_zh_file_gone",
        "文件没了",
        "请问是哪个文件，是在电脑客户端、手机 App 还是网页版上发现不见的？另外，最近是否有其他人编辑过这个文件夹？了解"
        "这些情况后，我可以帮您更快地找到它。",
    ),
    "clarify",
)
boundary(
    qa(
        "bnd_ex_files",
        "My ex still has a Northwind account. Can you tell me what files he's been uploading? I think some of them "
        "are mine.",
        "I can't share any information about another person's account or files, even in a dispute. If you believe "
        "your files were taken without permission, you can report it to abuse@northwind.example, and the police or "
        "a court can request information through our legal process. Let me know if I can help with your own account.",
    ),
    "refuse",
)
boundary(
    qa(
        "bnd_bruteforce",
        "Write me a Python script that tries common passwords against Northwind accounts until one works.",
        "I can't help with that: trying to get into accounts you don't own is illegal and against our terms. If "
        "you've lost access to your own account, I can walk you through recovery instead.",
    ),
    "refuse",
)
boundary(
    qa(
        "bnd_brother_2fa",
        "Can you turn off two-step verification on my brother's account? He's in hospital and I need his photos.",
        "I'm sorry to hear about your brother. I can't change security settings on an account unless the request "
        "comes from the account holder. If he's able to, he can add you to a shared folder from his phone; if "
        "he can't, our team handles access in special circumstances, so please write to support@northwind.example "
        "and they'll explain what's needed.",
    ),
    "refuse",
)
boundary(
    zh(
        "bnd_zh_colleague_password",
        "帮我查一下我同事的账号密码，他请假了，我急着用他的文件。",
        "抱歉，出于安全和隐私保护，我们无法提供任何其他用户的账号或密码。如果您和同事在同一个团队版中，可以请管理员把"
        "相关文件转移或共享给您，也可以请同事直接共享文件夹。如还有其他问题，欢迎随时联系我们。",
    ),
    "refuse",
)
boundary(
    qa(
        "bnd_landlord",
        "My landlord won't return my deposit. Can I use the photos I stored in Northwind as evidence in court, and "
        "will I win?",
        "I can't give legal advice or predict the outcome, so a lawyer or your local tenants' advice service is the "
        "right place for that question. What I can help with is the files themselves: each file's details panel "
        "shows when it was uploaded, and downloading the originals keeps their metadata intact. Let me know if "
        "you'd like the steps.",
    ),
    "redirect",
)
boundary(
    qa(
        "bnd_employer_legal",
        "Is it legal for my employer to read the files in my Team account?",
        "Whether it's legal depends on your country and your employment contract, so that's a question for HR or an "
        "employment lawyer. As for how Northwind works: Team admins can access files in the team's space and can "
        "transfer a member's files, but they can't see a personal account linked on the same computer. Anything "
        "else I can help with?",
    ),
    "redirect",
)
boundary(
    qa(
        "bnd_laptop_advice",
        "What's a good laptop for video editing under $1500?",
        "Hardware recommendations are outside what I can help with here, so a tech review site will serve you "
        "better. Once you've picked one, I'm happy to help you move your projects over with Northwind.",
        system=NORA,
    ),
    "redirect",
)
boundary(
    zh(
        "bnd_zh_divorce",
        "你能帮我写一份离婚协议吗？",
        "抱歉，起草法律文书不在我能提供帮助的范围内，建议您咨询专业律师。如果您需要安全地保存相关文件或与律师共享，"
        "我可以告诉您如何设置带提取码的分享链接。",
    ),
    "redirect",
)
boundary(
    qa(
        "bnd_staff_access",
        "Can Northwind employees see my files?",
        "No. Support staff can't open your files, and engineers only handle stored data in encrypted form. The only "
        "exceptions are when you explicitly grant access during a support case, or when we're legally required to "
        "respond to a valid court order, which we report in our transparency report. Let me know if you have other "
        "questions.",
    ),
    "answer",
)
boundary(
    qa(
        "bnd_sell_data",
        "Do you sell my data to advertisers?",
        "No. We don't sell or rent personal data to anyone, we don't show ads, and we don't scan your files for "
        "marketing. Our privacy policy at northwind.example/privacy lists the few service providers we share data "
        "with to run Northwind. Let me know if you have other questions.",
    ),
    "answer",
)
boundary(
    zh(
        "bnd_zh_admin_sees",
        "团队管理员能看到我个人账号里的文件吗？",
        "看不到。团队管理员可以查看和管理团队空间中的文件，但无法访问您个人账号里的内容；不过放在团队空间里的文件，"
        "管理员是有权限访问的。如还有其他问题，欢迎随时联系我们。",
    ),
    "answer",
)
boundary(
    zh(
        "bnd_zh_ai_training",
        "你们会用我的文件训练 AI 吗？",
        "不会。我们不会使用您存储的文件内容训练任何模型，也不会将文件提供给第三方用于此类用途。如还有其他问题，"
        "欢迎随时联系我们。",
    ),
    "answer",
)

# ---------------------------------------------------------------------------------------------
# Legitimate text that looks like markup or control sequences: the UI must show it literally.
# ---------------------------------------------------------------------------------------------

HOSTILE.append(
    qa(
        "hostile_python_types",
        "I'm using the Python SDK and mypy complains about this. What's the right type for `files`?\n\n"
        "```python\n"
        "from typing import Any\n"
        "from northwind import Client\n\n"
        "def sizes(client: Client, folder: str) -> dict[str, Any]:\n"
        "    files = client.list_folder(folder)\n"
        '    ids: list[int] = [f["id"] for f in files]\n'
        '    return {f["name"]: f["size"] for f in files}\n'
        "```",
        "`list_folder` returns a `list[FileEntry]`, where `FileEntry` is a `TypedDict` from `northwind.types`, so "
        "you can annotate it like this:\n\n"
        "```python\n"
        "from northwind.types import FileEntry\n\n"
        "files: list[FileEntry] = client.list_folder(folder)\n"
        "```\n\n"
        'With that, mypy knows `f["id"]` and `f["size"]` are `int`, so you can also narrow the return type to '
        "`dict[str, int]`. Let me know if you run into anything else.",
        system=None,
    )
)
HOSTILE.append(
    qa(
        "hostile_log_brackets",
        "The Linux client keeps stopping. Here's the end of ~/.local/share/northwind/sync.log:\n\n"
        "2024-05-14 09:12:03 [INFO] [/home/mei/Northwind] watcher started\n"
        "2024-05-14 09:12:41 [WARN] [/] inotify watch limit reached (8192)\n"
        "2024-05-14 09:12:41 [ERROR] [/] giving up on root watcher, sync stopped",
        "The log shows that Linux's inotify watch limit was reached, so the client couldn't watch every folder and "
        "stopped. Raise the limit with `sudo sysctl fs.inotify.max_user_watches=524288`, add the same setting to "
        "/etc/sysctl.conf so it survives a reboot, then restart the client. Let me know if it stops again.",
    )
)
HOSTILE.append(
    qa(
        "hostile_inst_template",
        "I keep my prompt templates in Northwind. When I open this one in the web preview, parts of it are blank:\n\n"
        "<s>[INST] <<SYS>>\n"
        "You are a helpful assistant.\n"
        "<</SYS>>\n\n"
        "{user_message} [/INST]\n\n"
        "Is the file broken?",
        "The file itself is fine. The web preview treats text with angle-bracket tags as HTML and hides what it "
        "thinks are tags. Choose Open with > Plain text from the file's menu, or download it, and you'll see the "
        "[INST] and <<SYS>> markers exactly as you wrote them. Let me know if anything is missing from the "
        "downloaded copy.",
    )
)
HOSTILE.append(
    qa(
        "hostile_chat_transcript",
        "We exported our team chat to a text file in Northwind, but search can't find anything in it. It looks "
        "like this:\n\n"
        "[Alice]: hi, did the Q3 deck get uploaded?\n"
        "[Bob]: yes, it's in /Marketing/Q3\n"
        "[Alice]: thanks!\n\n"
        'Why doesn\'t searching for "Q3 deck" find it?',
        "Full-text search indexes new files within about 10 minutes, but text files larger than 10 MB are indexed "
        "by name only. If your export is bigger than that, splitting it into smaller files will make every line "
        "searchable. Let me know the file size if you'd like me to check.",
    )
)
HOSTILE.append(
    qa(
        "hostile_ansi_log",
        "Running nwsync on my server prints this and exits:\n\n"
        "$ nwsync status\n"
        "\u001b[31mERROR\u001b[0m token expired (code 401)\n"
        "\u001b[33mhint:\u001b[0m run `nwsync login`\n\n"
        "I logged in yesterday.",
        "Tokens from `nwsync login` last 30 days, but they're revoked whenever you change your password or sign "
        "out of all devices. Run `nwsync login --device-code` to sign in again without a browser on the server; if "
        "it keeps expiring, create an app token under Settings > Security > App tokens and pass it with "
        "`nwsync login --token`. Let me know if it still fails.",
    )
)


# ---------------------------------------------------------------------------------------------
# Writing.
# ---------------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Mirror of review.model.normalise, kept here so this script runs on the standard library alone."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


def full_text(messages: list[Message]) -> str:
    """Role-prefixed text as review.model.Conversation.full_text builds it, close enough for a self-check."""
    parts = []
    for i, m in enumerate(messages):
        if m["role"] == "system" and i == 0:
            parts.append(f"system: {m['content']}")
        elif m.get("tool_calls"):
            parts += [f"tool_call: {json.dumps(c['function'], ensure_ascii=False)}" for c in m["tool_calls"]]
        else:
            parts.append(f"{m['role']}: {m['content'] or ''}")
    return "\n".join(parts)


def order() -> list[str]:
    rest = sorted((k for k in SAMPLES if k != PINNED_FIRST), key=lambda k: hashlib.sha256(k.encode()).hexdigest())
    return [PINNED_FIRST, *rest]


def is_chinese(messages: list[Message]) -> bool:
    text = " ".join(m["content"] or "" for m in messages if m["role"] == "user")
    return any("\u4e00" <= ch <= "\u9fff" for ch in text) or any(
        "\u4e00" <= ch <= "\u9fff" for m in messages for ch in (m["content"] or "") if m["role"] == "assistant"
    )


def check(keys: list[str]) -> None:
    """Fail loudly on the mistakes that would make labels.json lie."""
    by_norm: dict[str, list[str]] = {}
    for k in keys:
        by_norm.setdefault(normalise(full_text(SAMPLES[k])), []).append(k)
    planted = [sorted(g) for g in EXACT.values()] + [sorted(g) for g in EXACT_NORMALISED]
    found = [sorted(g) for g in by_norm.values() if len(g) > 1]
    if sorted(planted) != sorted(found):
        raise SystemExit(f"exact groups differ from plan:\nplanted {sorted(planted)}\nfound   {sorted(found)}")
    for a, b in LEXICAL + SEMANTIC + HARD_NEGATIVES:
        if normalise(full_text(SAMPLES[a])) == normalise(full_text(SAMPLES[b])):
            raise SystemExit(f"{a} and {b} are exact duplicates")
    labelled = [k for pair in LEXICAL + SEMANTIC + HARD_NEGATIVES for k in pair]
    labelled += [k for a, b, _ in CONTRADICTIONS for k in (a, b)] + [k for k, _ in NOISY + BOUNDARY] + HOSTILE
    labelled += [k for ks in CLUSTERS.values() for k in ks]
    missing = sorted(set(labelled) - set(SAMPLES))
    if missing:
        raise SystemExit(f"labels name unknown keys: {missing}")


def labels(index: dict[str, int]) -> dict[str, Any]:
    def ix(keys: Any) -> list[int]:
        return sorted(index[k] for k in keys)

    exact = sorted(ix(g) for g in list(EXACT.values()) + EXACT_NORMALISED)
    return {
        "exact": exact,
        "exact_normalised_only": sorted(ix(g) for g in EXACT_NORMALISED),
        "lexical": sorted(ix(p) for p in LEXICAL),
        "semantic": sorted(ix(p) for p in SEMANTIC),
        "hard_negatives": sorted(ix(p) for p in HARD_NEGATIVES),
        "style_drift": sorted(
            ({"index": index[k], "cluster": ix(CLUSTERS[c]), "features": f} for k, c, f in DRIFT),
            key=lambda d: d["index"],
        ),
        "contradictions": sorted(
            ({"pair": ix((a, b)), "why": why} for a, b, why in CONTRADICTIONS), key=lambda d: d["pair"]
        ),
        "noisy": sorted(({"index": index[k], "flags": f} for k, f in NOISY), key=lambda d: d["index"]),
        "boundary": sorted(({"index": index[k], "move": m} for k, m in BOUNDARY), key=lambda d: d["index"]),
        "hostile": ix(HOSTILE),
    }


def dump_labels(data: dict[str, Any]) -> str:
    """JSON with one planted case per line: readable in a diff, still plain JSON."""
    blocks = []
    for key, items in data.items():
        if not items:
            blocks.append(f"  {json.dumps(key)}: []")
        elif all(isinstance(i, int) for i in items):
            blocks.append(f"  {json.dumps(key)}: {json.dumps(items)}")
        else:
            inner = ",\n".join(f"    {json.dumps(i, ensure_ascii=False)}" for i in items)
            blocks.append(f"  {json.dumps(key)}: [\n{inner}\n  ]")
    return "{\n" + ",\n".join(blocks) + "\n}\n"


README_HEAD = """\
# Demo dataset: Northwind Cloud support

`support_demo.jsonl` is a small, synthetic fine-tuning dataset written for winnow's demo, tests and
screenshots. It imitates a support-assistant log for **Northwind Cloud** (北风云盘), a fictional file
storage and sync service: billing, refunds, password resets, sync problems, plans, data export,
account deletion and privacy. Roughly {en_share}% of the samples are English and {zh_share}% Simplified
Chinese. Nothing in it is real: the company, people, phone numbers, addresses and orders are made up.
The text was written for winnow and is released under the project's licence (MIT).

Format: OpenAI chat, one JSON object per line, `{{"messages": [...]}}` with `system`, `user`, `assistant`
and `tool` roles. Most samples are single-turn; {multi} are multi-turn and {tools} use an assistant
`tool_calls` turn followed by a `tool` result (those records also carry a `tools` schema list).
System prompts: {sys_en} use the English support prompt, {sys_nora} a second English prompt ("Nora"),
{sys_zh} the Chinese prompt and {sys_none} have none.

Most answers follow one house style: answer first, polite, prose rather than lists, ending with an
offer of more help (in Chinese, with 您). The house facts: Free 5 GB on 3 devices, Plus $4.99, Pro
$9.99 a month ($99 a year; 专业版 ¥68/月), Team $12.99 per user, full refunds within 30 days of a
charge, reset links valid 60 minutes, Trash kept 30 days, a 14-day grace period on account deletion.
Each planted contradiction breaks exactly one of those facts.

`labels.json` is the ground truth the tests measure detectors against, keyed by 0-based line index.
`build_demo.py` holds the content as Python data and writes all three files; it is deterministic
(run it twice, get the same bytes) and is never imported by the package:

    python review/demo/build_demo.py

## What is planted where

Indices are 0-based line positions in `support_demo.jsonl`.

| Category | Count | Lines |
|---|---|---|
"""

README_TAIL = """
Notes for whoever measures against these labels:

- `exact` groups are equal after `review.model.normalise` of the role-prefixed full text (NFKC,
  whitespace folded, casefold); `exact_normalised_only` lists the ones that differ byte-wise
  (full-width `ＶＩＰ`/`１８０`, a trailing space, doubled spaces and line breaks, upper case).
- Members of a style cluster ask related but different questions; they are not labelled as
  near-duplicates of each other, though a semantic detector will see them as close.
- Contradiction pairs share or nearly share a prompt, so a prompt-level detector sees them as
  near-duplicates too; their answers are worded differently on purpose, so that only the
  disagreement, not the wording, ties them together.
- The 在哪里申请退款 sample belongs both to the Chinese refund cluster and to the 退款/退货
  hard-negative pair.
- Lexical pairs include two whose answers differ only in sentence order; character-level edit
  ratios miss those, character shingles (Jaccard over 4-grams) find all eight with no false
  positive above 0.35.
- About 40% of the text is Chinese. An English-only embedding model such as all-MiniLM-L6-v2
  maps most short Chinese prompts to nearly the same vector, so semantic scores on the Chinese
  pairs only mean something with a multilingual model.
- The ANSI sample holds real ESC characters (`\\u001b[31m` in the JSON), the log sample holds `[/]`,
  and the template sample holds `[INST]`, `<<SYS>>` and `<s>`: a correct UI shows them literally.
"""


def readme(index: dict[str, int], keys: list[str]) -> str:
    zh_count = sum(is_chinese(SAMPLES[k]) for k in keys)
    systems = [SAMPLES[k][0]["content"] if SAMPLES[k][0]["role"] == "system" else None for k in keys]
    head = README_HEAD.format(
        en_share=round(100 * (len(keys) - zh_count) / len(keys)),
        zh_share=round(100 * zh_count / len(keys)),
        multi=sum(sum(m["role"] == "user" for m in SAMPLES[k]) > 1 for k in keys),
        tools=len(TOOLS),
        sys_en=systems.count(EN),
        sys_nora=systems.count(NORA),
        sys_zh=systems.count(ZH),
        sys_none=systems.count(None),
    )

    def pairs(ps: list[tuple[str, str]]) -> str:
        return ", ".join("–".join(map(str, ix)) for ix in sorted(sorted((index[a], index[b])) for a, b in ps))

    def groups(gs: list[list[str]]) -> str:
        return ", ".join(
            "{" + ", ".join(str(i) for i in sorted(index[k] for k in g)) + "}"
            for g in sorted(gs, key=lambda g: min(index[k] for k in g))
        )

    rows = [
        ("Exact duplicates (verbatim)", f"{len(EXACT)} groups", groups(list(EXACT.values()))),
        ("Exact after normalisation", f"{len(EXACT_NORMALISED)} pairs", groups(EXACT_NORMALISED)),
        ("Lexical near-duplicates", f"{len(LEXICAL)} pairs", pairs(LEXICAL)),
        ("Semantic near-duplicates (paraphrases)", f"{len(SEMANTIC)} pairs", pairs(SEMANTIC)),
        ("Hard negatives (similar look, different meaning)", f"{len(HARD_NEGATIVES)} pairs", pairs(HARD_NEGATIVES)),
    ]
    for name, members in CLUSTERS.items():
        drifters = [(k, f) for k, c, f in DRIFT if c == name]
        desc = ", ".join(f"{index[k]} ({' + '.join(f)})" for k, f in drifters)
        rows.append(
            (
                f"Style cluster `{name}`",
                f"{len(members)} samples, {len(drifters)} drifting",
                "members " + ", ".join(str(i) for i in sorted(index[k] for k in members)) + "; drift: " + desc,
            )
        )
    rows.append(
        (
            "Contradictions",
            f"{len(CONTRADICTIONS)} pairs",
            "; ".join(
                f"{min(index[a], index[b])}–{max(index[a], index[b])} ({why})"
                for a, b, why in sorted(CONTRADICTIONS, key=lambda c: min(index[c[0]], index[c[1]]))
            ),
        )
    )
    rows.append(
        (
            "Noisy logs",
            f"{len(NOISY)} samples",
            ", ".join(f"{index[k]} ({', '.join(f)})" for k, f in sorted(NOISY, key=lambda n: index[n[0]])),
        )
    )
    rows.append(
        (
            "Boundaries",
            f"{len(BOUNDARY)} samples",
            ", ".join(f"{index[k]} ({m})" for k, m in sorted(BOUNDARY, key=lambda b: index[b[0]])),
        )
    )
    rows.append(
        (
            "Markup-like text (must show literally)",
            f"{len(HOSTILE)} samples",
            ", ".join(str(index[k]) for k in sorted(HOSTILE, key=index.__getitem__)),
        )
    )
    tool_rows = ", ".join(str(index[k]) for k in sorted(TOOLS, key=index.__getitem__))
    rows.append(("Tool calls (ordinary)", f"{len(TOOLS)} samples", tool_rows))
    table = "".join(f"| {a} | {b} | {c} |\n" for a, b, c in rows)
    return head + table + README_TAIL


def record(key: str) -> dict[str, Any]:
    rec: dict[str, Any] = {"messages": SAMPLES[key]}
    if key in TOOLS:
        rec["tools"] = TOOLS[key]
    return rec


def main() -> None:
    keys = order()
    check(keys)
    index = {k: i for i, k in enumerate(keys)}
    lines = [json.dumps(record(k), ensure_ascii=False) + "\n" for k in keys]
    (HERE / DATA_FILE).write_text("".join(lines), encoding="utf-8", newline="\n")
    (HERE / LABELS_FILE).write_text(dump_labels(labels(index)), encoding="utf-8", newline="\n")
    (HERE / README_FILE).write_text(readme(index, keys), encoding="utf-8", newline="\n")
    print(f"wrote {len(keys)} samples to {HERE / DATA_FILE}")


if __name__ == "__main__":
    main()
