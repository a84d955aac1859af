SELECT
  *
FROM (
  SELECT
    `t8`.`rank`,
    `t8`.`members`,
    `t8`.`buyers`,
    `t8`.`orders`,
    `t8`.`revenue`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t8`.`members` AS FLOAT64),
            NULLIF(
              SUM(`t8`.`members`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `member_share`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t8`.`revenue` AS FLOAT64),
            NULLIF(
              SUM(`t8`.`revenue`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `revenue_share`,
    ieee_divide(
      CAST(FLOOR((
        ieee_divide(CAST(`t8`.`revenue` AS FLOAT64), `t8`.`members`) * 1
      ) + 0.5) AS INT64),
      1
    ) AS `revenue_per_member`
  FROM (
    SELECT
      `t7`.`rank`,
      COUNT(`t7`.`customer_id`) AS `members`,
      COUNT(`t7`.`orders`) AS `buyers`,
      COALESCE(SUM(`t7`.`orders`), 0) AS `orders`,
      COALESCE(SUM(`t7`.`revenue`), 0) AS `revenue`
    FROM (
      SELECT
        `t3`.`customer_id`,
        `t3`.`rank`,
        `t6`.`customer_id` AS `customer_id_right`,
        `t6`.`orders`,
        `t6`.`revenue`
      FROM (
        SELECT
          `t0`.`customer_id`,
          COALESCE(`t0`.`rank`, '(不明)') AS `rank`
        FROM `customers` AS `t0`
      ) AS `t3`
      LEFT OUTER JOIN (
        SELECT
          `t4`.`customer_id`,
          COUNT(`t4`.`order_id`) AS `orders`,
          SUM(`t4`.`total`) AS `revenue`
        FROM (
          SELECT
            `t1`.`order_id`,
            `t1`.`customer_id`,
            `t1`.`ordered_at`,
            `t1`.`status`,
            `t1`.`channel`,
            `t1`.`subtotal`,
            `t1`.`discount`,
            `t1`.`shipping_fee`,
            `t1`.`points_used`,
            `t1`.`total`,
            `t1`.`points_earned`,
            `t1`.`coupon_code`,
            `t1`.`subscription_id`,
            `t1`.`payment_method`,
            `t1`.`shipping_prefecture`,
            `t1`.`is_gift`,
            DATE(TIMESTAMP_ADD(`t1`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
          FROM `orders` AS `t1`
          WHERE
            `t1`.`status` = 'completed'
            AND `t1`.`customer_id` IS NOT NULL
            AND `t1`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
        ) AS `t4`
        GROUP BY
          1
      ) AS `t6`
        ON `t3`.`customer_id` = `t6`.`customer_id`
    ) AS `t7`
    GROUP BY
      1
  ) AS `t8`
) AS `t9`
ORDER BY
  `t9`.`revenue_per_member` DESC,
  `t9`.`rank` ASC NULLS LAST
