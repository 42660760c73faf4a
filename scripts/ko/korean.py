"""Korean for the messages of issue 24 (one vocabulary; numbers, dates and plurals): docs/glossary.md.

A message with a context (``pgettext``) is keyed ``(context, msgid)``; see scripts/update_catalogs.py.
"""

KO = {
    ("analytics grouping", "by"): "집계 단위",
    ("custody event actor", "by"): "수행자",
    ("calendar", "month"): "월",
    # PREMIS event types and outcomes (Library of Congress vocabulary), as the package page shows them
    "accession": "인수",
    "capture": "획득",
    "creation": "생성",
    "deaccession": "인수 해제",
    "deletion": "삭제",
    "digital signature generation": "전자서명 생성",
    "digital signature validation": "전자서명 검증",
    "dissemination": "배포",
    "extraction": "추출",
    "fixity check": "고정성 검사",
    "format identification": "포맷 식별",
    "information package creation": "정보 패키지 생성",
    "ingestion": "입수",
    "message digest calculation": "해시값 계산",
    "metadata extraction": "메타데이터 추출",
    "metadata modification": "메타데이터 수정",
    "policy assignment": "정책 지정",
    "recovery": "복구",
    "redaction": "비식별 처리",
    "replication": "복제",
    "transfer": "인계",
    "validation": "유효성 검증",
    "success": "성공",
    "failure": "실패",
}
