"""Korean for the maps, saved searches and the page faults of issue 22 (branch webmaps)."""

KO = {
    # maps
    "Click the map to search around that point, or draw a box to search inside it.":
        "지도를 누르면 그 지점 주변을, 상자를 그리면 그 안을 검색합니다.",
    "Draw a box on the map": "지도에 상자 그리기",
    "Map of the cameras": "카메라 지도",
    "Map of the cameras and the clips found": "카메라와 찾은 영상 클립 지도",
    "{count} clips": "클립 {count}개",
    "or a camera id": "또는 카메라 ID",
    # the built-in purposes of cameras (the public notice names them in the reader's language)
    "Traffic": "교통",
    "Crime prevention": "범죄 예방",
    "Disaster watch": "재난 감시",
    "Facility management": "시설물 관리",
    "Parks": "공원",
    "Fire watch": "화재 감시",
    # the operation register
    "use within the body (viewing)": "기관 내 이용(열람)",
    # saved searches
    "Saved searches": "저장한 검색",
    "Save this search as": "이 검색을 저장할 이름",
    "Save the search": "검색 저장",
    "The search is saved as {name}.": "검색을 {name}(으)로 저장했습니다.",
    "The saved search {name} is deleted.": "저장한 검색 {name}을(를) 삭제했습니다.",
    "No saved searches yet: save one from the search page.":
        "저장한 검색이 아직 없습니다. 검색 화면에서 저장하십시오.",
    "{count} saved searches": "저장한 검색 {count}개",
    "Hold what it finds": "찾은 영상에 법적 보존 조치",
    "Run": "실행",
    "Delete": "삭제",
    "actions": "작업",
    "filters": "조건",
    "saved": "저장 시각",
    "a saved search needs a name of 1 to {limit} characters":
        "저장할 검색에는 1자에서 {limit}자 사이의 이름이 필요합니다",
    "you have {count} saved searches, the most one account may keep: delete one first":
        "저장한 검색이 {count}개로 한 계정이 둘 수 있는 최대입니다. 먼저 하나를 삭제하십시오",
    "you have no saved search {search_id}": "저장한 검색 {search_id}이(가) 없습니다",
    "the saved search {name!r} filters by {filters}, which a legal hold cannot keep (a hold keeps one camera, "
    "a zone, words and a time range): hold a case or a camera over the range instead":
        "저장한 검색 {name!r}은(는) 법적 보존 조치가 담을 수 없는 조건({filters})으로 찾습니다 (보존 조치는 카메라 "
        "하나, 구역, 검색어, 기간을 담습니다). 대신 사건이나 기간을 정한 카메라에 보존 조치를 하십시오",
}
