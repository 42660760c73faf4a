"""Korean translations of the web access messages (issue 22: who may see what, destroyed packages, navigation)."""

KO = {
    # who may see what
    "your role ({role}) sees only the cases shared with it, so it may not do this ({permission}): it would reach "
    "footage outside those cases; ask an operator":
        "이 역할({role})은 공유받은 사건만 볼 수 있으므로 이 작업({permission})을 할 수 없습니다: 그 사건 밖의 영상에 "
        "닿게 됩니다. 운영 담당자에게 요청하십시오",
    "Case {number} is shared with {username}.": "사건 {number}을(를) {username}에게 공유했습니다.",
    "Case {number} is no longer shared with {username}.": "사건 {number}을(를) 더 이상 {username}에게 공유하지 않습니다.",
    "shared with": "공유 대상",
    # destroyed packages
    "package {package_id} was destroyed ({status}); only its tombstone remains, no footage can be played, "
    "downloaded or verified":
        "패키지 {package_id}은(는) 파기되었습니다 ({status}). 삭제 기록만 남아 있어 영상을 재생하거나 내려받거나 "
        "검증할 수 없습니다",
    "Destroyed": "파기됨",
    "This package was destroyed: every stored copy of its footage is gone. Its metadata and digests are kept as "
    "a tombstone.":
        "이 패키지는 파기되었습니다: 영상의 모든 저장 사본이 없어졌습니다. 메타데이터와 해시값은 삭제 기록으로 남아 "
        "있습니다.",
    "destroyed, tombstone kept": "파기됨 (삭제 기록 보존)",
    "being destroyed": "파기 중",
    "destroyed at": "파기 일시",
    "record class": "기록물 분류",
    "proposed by": "제안자",
    "approved by": "승인자",
    "tag manifest SHA-256": "태그 매니페스트 SHA-256",
    "Destruction certificate": "파기 확인서",
    "signed JSON": "서명된 JSON",
    # navigation
    "Inquiry": "사고·재난 조사",
    "Operation register": "개인영상정보 관리대장",
    "Public notice": "영상정보처리기기 운영·관리 방침",
}
