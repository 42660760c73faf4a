"""Korean translations of upload provenance and withdrawn share links (issue 22: who may see what)."""

KO = {
    # a share link whose export holds destroyed footage
    "Evidence export withdrawn": "증거 반출 철회됨",
    "This export is withdrawn: footage in it was lawfully destroyed under the archive's retention rules, so "
    "nothing of it can be shown or downloaded any more.":
        "이 반출은 철회되었습니다: 들어 있던 영상이 보존 규칙에 따라 적법하게 파기되어 더 이상 아무것도 보여 주거나 "
        "내려받을 수 없습니다.",
    "an account of the archive is needed to open it": "열려면 이 보관소의 계정이 필요합니다",
}
